import Foundation
import GRDB

/// How far a pipeline is, read from `derived.sqlite` and the log without running it (and
/// without its lock): what `runnel pipelines` prints.
///
/// The lag is counted now, from the committed offsets against the log's current end, not taken
/// from the last commit: a pipeline that stopped long ago, or was interrupted before its first
/// commit, shows the records that wait for it.
package struct PipelineStatus: Sendable, Equatable {
    package enum State: Sendable, Equatable, CustomStringConvertible {
        /// Nothing committed yet.
        case notRun
        /// Committed state of the pipeline's version.
        case ok
        /// A rebuild dropped the state and the replay has not reached the log's end yet (it
        /// goes on with the next run); `read` of `total` records in the log so far.
        case rebuilding(read: Int64, total: Int64)
        /// The saved state is from another version.
        case needsRebuild(savedVersion: Int)
        /// The pipeline has read offsets the log no longer holds (its end went back).
        case aheadOfLog(offsets: Int64)

        package var description: String {
            switch self {
            case .notRun: "not run"
            case .ok: "ok"
            case .rebuilding(let read, let total):
                "rebuilding (\(read)/\(total) records, \(total > 0 ? read * 100 / total : 100)%)"
            case .needsRebuild(let version): "needs rebuild (state is version \(version))"
            case .aheadOfLog(let offsets): "needs rebuild (read \(offsets) offsets past the log's end)"
            }
        }
    }

    package var name: String
    package var state: State
    /// Events read, as committed (nil before the pipeline has a row).
    package var eventsIn: Int64?
    /// Records between the committed offsets and the log's end.
    package var lagEvents: Int64?
    /// How far the newest record's event time is ahead of the newest the pipeline read.
    package var lagMilliseconds: Int64?
    /// When it last committed (milliseconds since 1970).
    package var updatedAt: Int64?
    /// Records no source took, by event type, over every committed batch since the last rebuild.
    package var skippedByType: [String: Int64] = [:]

    package init(name: String, state: State, eventsIn: Int64? = nil, lagEvents: Int64? = nil, lagMilliseconds: Int64? = nil, updatedAt: Int64? = nil) {
        self.name = name
        self.state = state
        self.eventsIn = eventsIn
        self.lagEvents = lagEvents
        self.lagMilliseconds = lagMilliseconds
        self.updatedAt = updatedAt
    }

    /// The status of each pipeline, in the order given.
    /// - Parameters:
    ///   - pipelines: The catalog's pipelines.
    ///   - derived: `derived.sqlite`, read-only is enough (a store older than the rebuild
    ///     bookkeeping is read as "no rebuild").
    ///   - log: The home's log opened for reading; nil when there is none or it cannot be read,
    ///     and then the lag is the one stored at the last commit.
    package static func read(_ pipelines: [Pipeline], from derived: any DatabaseReader, log: Log?) throws -> [PipelineStatus] {
        try derived.read { db in
            guard try db.tableExists("runnel_pipelines") else {
                return pipelines.map { PipelineStatus(name: $0.name, state: .notRun) }
            }
            let hasRebuilds = try db.columns(in: "runnel_pipelines").contains { $0.name == "rebuild_started_at" }
            let extra = hasRebuilds ? ", rebuild_started_at, topics" : ""
            return try pipelines.map { pipeline in
                guard let row = try Row.fetchOne(db, sql: """
                    SELECT version, events_in, batches, lag_events, lag_ms, updated_at\(extra) FROM runnel_pipelines WHERE name = ?
                    """, arguments: [pipeline.name]) else {
                    return PipelineStatus(name: pipeline.name, state: .notRun)
                }
                let offsets = try Row.fetchAll(db, sql: "SELECT topic, partition, next_offset, max_event_time FROM runnel_pipeline_offsets WHERE pipeline = ?",
                                               arguments: [pipeline.name])
                var status = PipelineStatus(name: pipeline.name, state: .ok, eventsIn: row["events_in"], lagEvents: row["lag_events"],
                                            lagMilliseconds: row["lag_ms"], updatedAt: row["updated_at"])
                if try db.tableExists("runnel_pipeline_skipped_types") {
                    for skipped in try Row.fetchAll(db, sql: "SELECT type, records FROM runnel_pipeline_skipped_types WHERE pipeline = ?", arguments: [pipeline.name]) {
                        status.skippedByType[skipped["type"]] = skipped["records"]
                    }
                }
                var progress = (read: Int64(0), total: Int64(0), ahead: Int64(0))
                if let log {
                    let topics = ((row["topics"] as String?) ?? "").split(separator: ",").map(String.init) + offsets.map { $0["topic"] as String }
                    (status.lagEvents, status.lagMilliseconds, progress) = try lag(of: Set(topics), offsets: offsets, in: log)
                }
                let version: Int = row["version"]
                if version != pipeline.version {
                    status.state = .needsRebuild(savedVersion: version)
                } else if progress.ahead > 0 {
                    status.state = .aheadOfLog(offsets: progress.ahead)
                } else if (row["rebuild_started_at"] as Int64?) != nil {
                    status.state = .rebuilding(read: progress.read, total: progress.total)
                } else if (row["batches"] as Int64) == 0 {
                    status.state = .notRun
                }
                return status
            }
        }
    }

    /// The lag of committed offsets against the log's end, counted as the runner counts it,
    /// and how much of the log they cover.
    private static func lag(of topics: Set<String>, offsets: [Row], in log: Log) throws
        -> (events: Int64, milliseconds: Int64, progress: (read: Int64, total: Int64, ahead: Int64)) {
        var committed: [String: (next: Int64, time: Int64?)] = [:]
        for row in offsets {
            committed["\(row["topic"] as String)/\(row["partition"] as Int)"] = (row["next_offset"], row["max_event_time"])
        }
        var events: Int64 = 0, milliseconds: Int64 = 0, read: Int64 = 0, total: Int64 = 0, ahead: Int64 = 0
        for name in topics.sorted() {
            guard let topic = try log.topic(name) else { continue }
            for partition in topic.partitions {
                // The offsets were read first: looking at the files now sees every record a
                // committed offset counts, so a runner that committed since the log was opened
                // is not taken for one ahead of the log.
                try partition.refresh()
                let saved = committed["\(name)/\(partition.partition)"]
                let next = max(saved?.next ?? 0, partition.startOffset), end = partition.endOffset
                events += max(0, end - next)
                ahead += max(0, next - end)
                read += min(next, end)
                total += end
                if next < end, let newest = partition.segmentSummaries.last?.maxTimestamp {
                    milliseconds = max(milliseconds, newest - (saved?.time ?? newest))
                }
            }
        }
        return (events, milliseconds, (read, total, ahead))
    }
}
