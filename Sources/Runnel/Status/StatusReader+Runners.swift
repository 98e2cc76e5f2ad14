import Foundation
import GRDB

// MARK: - Pipelines, handlers and saga coordinators

extension StatusReader {
    func pipelines(log: Log?, locks: RunnerLock.HeldLocks?) throws -> [HomeStatus.RunnerStatus] {
        let pipelines = catalog.pipelines
        let statuses = try PipelineStatus.read(pipelines, from: derived, log: log)
        let extras = try derived.read { db in try PipelineRows(db) }
        return zip(pipelines, statuses).map { pipeline, status in
            HomeStatus.RunnerStatus(
                name: pipeline.name, state: status.state.description,
                runningPid: RunnerLock.holder(of: RunnerLock.url(.pipeline, named: pipeline.name, in: home), in: locks),
                records: status.eventsIn ?? 0, lagEvents: status.lagEvents ?? 0, lagMs: status.lagMilliseconds ?? 0,
                watermark: extras.watermarks[pipeline.name], lastCommitAt: status.state == PipelineStatus.State.notRun ? nil : status.updatedAt,
                deadLetters: extras.deadLetters[pipeline.name] ?? 0, lateEvents: extras.lateEvents[pipeline.name] ?? 0)
        }
    }

    func sagas(consumers: ConsumerRows, log: Log?, locks: RunnerLock.HeldLocks?, now: Date) throws -> [HomeStatus.SagaStatus] {
        let hasTables = try app.read { try $0.tableExists("runnel_sagas") }
        return try catalog.sagas.map { saga in
            let coordinator = try consumer(SagaCoordinator.consumerName(saga.name), named: saga.name, role: .saga,
                                           topics: [saga.startTopic, saga.replyTopic], rows: consumers, log: log, locks: locks)
            let (counts, overdue) = hasTables
                ? try app.read { db in (try SagaRecords.counts(of: saga.name, in: db), try SagaRecords.overdue(of: saga.name, now: now, in: db)) }
                : ([:], 0)
            return HomeStatus.SagaStatus(
                saga: saga.name, coordinator: coordinator,
                running: counts[.running] ?? 0, compensating: counts[.compensating] ?? 0, completed: counts[.completed] ?? 0,
                compensated: counts[.compensated] ?? 0, failed: counts[.failed] ?? 0, pastDeadline: overdue)
        }
    }

    /// A handler or coordinator: its counts and offsets from `app.sqlite`, its lag against the log.
    func consumer(_ consumer: String, named name: String, role: RunnerLock.Role, topics: [String], rows: ConsumerRows, log: Log?,
                  locks: RunnerLock.HeldLocks?) throws
        -> HomeStatus.RunnerStatus {
        let counts = rows.counts[consumer]
        var status = HomeStatus.RunnerStatus(
            name: name, state: counts == nil ? "not run" : "ok",
            runningPid: RunnerLock.holder(of: RunnerLock.url(role, named: name, in: home), in: locks),
            records: counts?.records ?? 0, lagEvents: 0, lagMs: 0, watermark: nil, lastCommitAt: counts?.lastCommitAt,
            deadLetters: counts?.deadLetters ?? 0, lateEvents: 0)
        guard let log else { return status }
        for name in Set(topics).sorted() {
            guard let topic = try log.topic(name) else { continue }
            for partition in topic.partitions {
                let next = max(rows.offsets["\(consumer)\u{0}\(name)\u{0}\(partition.partition)"] ?? 0, partition.startOffset)
                let end = partition.endOffset
                guard next < end else { continue }
                status.lagEvents += end - next
                // Event time of the first record it has not read against the newest: how far behind it is.
                var waiting: Int64?
                try partition.forEachRecord(from: next, maxBytes: 1) { record in
                    waiting = record.timestamp
                    return false
                }
                if let waiting, let newest = partition.segmentSummaries.last(where: { $0.nextOffset > $0.baseOffset })?.maxTimestamp {
                    status.lagMs = max(status.lagMs, newest - waiting)
                }
            }
        }
        return status
    }
}

/// `runnel_consumers` and `runnel_consumer_offsets`, read once per status.
struct ConsumerRows {
    var counts: [String: (records: Int64, deadLetters: Int, lastCommitAt: Int64?)] = [:]
    /// By `consumer NUL topic NUL partition`.
    var offsets: [String: Int64] = [:]

    init(_ db: Database) throws {
        guard try db.tableExists("runnel_consumers") else { return }
        for row in try Row.fetchAll(db, sql: "SELECT consumer, records, dead_letters, last_commit_at FROM runnel_consumers") {
            counts[row["consumer"]] = (row["records"], row["dead_letters"], row["last_commit_at"])
        }
        for row in try Row.fetchAll(db, sql: "SELECT consumer, topic, partition, next_offset FROM runnel_consumer_offsets") {
            offsets["\(row["consumer"] as String)\u{0}\(row["topic"] as String)\u{0}\(row["partition"] as Int)"] = row["next_offset"]
        }
    }
}

/// Per pipeline: dead letters, late events and the watermark, read once per status.
struct PipelineRows {
    var deadLetters: [String: Int] = [:]
    var lateEvents: [String: Int] = [:]
    var watermarks: [String: Int64] = [:]

    init(_ db: Database) throws {
        guard try db.tableExists("runnel_pipelines") else { return }
        // Both tables are indexed by pipeline first, so each count walks one pipeline's entries.
        for row in try Row.fetchAll(db, sql: "SELECT pipeline, count(*) AS n FROM runnel_pipeline_dead_letters GROUP BY pipeline") {
            deadLetters[row["pipeline"]] = row["n"]
        }
        for row in try Row.fetchAll(db, sql: "SELECT pipeline, count(*) AS n FROM runnel_pipeline_late_events GROUP BY pipeline") {
            lateEvents[row["pipeline"]] = row["n"]
        }
        // The least event time among the partitions that have sent events: what every input reached.
        for row in try Row.fetchAll(db, sql: """
            SELECT pipeline, min(max_event_time) AS reached FROM runnel_pipeline_offsets WHERE max_event_time IS NOT NULL GROUP BY pipeline
            """) {
            watermarks[row["pipeline"]] = row["reached"]
        }
    }
}
