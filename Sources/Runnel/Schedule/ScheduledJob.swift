import Foundation
import Logging

/// What a schedule entry runs at each fire time.
///
/// Jobs run on a thread of their own, so a job may block (SQLite, files) without holding a
/// thread of Swift's cooperative pool. A job that throws is recorded `failed` with its error;
/// the entry's next fire time runs as usual.
public struct ScheduledJob: Sendable {
    /// What the job does, for `schedule list`.
    public let summary: String
    /// The pipelines the job runs, checked against the catalog.
    let pipelines: [String]
    /// The KV stores the job publishes, checked against the catalog's pipelines.
    let kvStores: [String]
    let body: @Sendable (ScheduledRun) async throws -> Void

    private init(summary: String, pipelines: [String] = [], kvStores: [String] = [], body: @escaping @Sendable (ScheduledRun) async throws -> Void) {
        self.summary = summary
        self.pipelines = pipelines
        self.kvStores = kvStores
        self.body = body
    }

    /// Runs the named pipelines of the catalog from their checkpoints to the log's end, in
    /// order (a batch run, as `runnel run NAME…` does), publishing their KV stores.
    /// - Parameter names: Pipeline names; each must be in the catalog.
    public static func pipelines(_ names: String...) -> ScheduledJob {
        pipelines(names)
    }

    /// Runs the named pipelines of the catalog, in order (see ``pipelines(_:)-(String...)``).
    /// - Parameter names: Pipeline names; each must be in the catalog.
    public static func pipelines(_ names: [String]) -> ScheduledJob {
        let summary = names.count > 2 ? "run \(names.count) pipelines" : "run \(names.joined(separator: ", "))"
        return ScheduledJob(summary: summary, pipelines: names) { run in
            // Every pipeline gets its run; one that fails does not stop the others, and the
            // run fails naming each failure.
            var failures: [String] = []
            for name in names {
                do {
                    let pipeline = try run.catalog.pipeline(named: name)
                    let runner = try PipelineRunner(pipeline: pipeline, store: run.store, logger: run.logger)
                    let summary = try runner.runToEnd()
                    run.logger.info("scheduled pipeline run", metadata: [
                        "runnel.schedule.entry": "\(run.entry)", "runnel.pipeline.name": "\(name)", "runnel.pipeline.records": "\(summary.records)",
                    ])
                } catch {
                    failures.append("\(name): \(error)")
                }
            }
            if !failures.isEmpty {
                throw RunnelError(.schedule, "\(failures.count) of \(names.count) pipelines failed: \(failures.joined(separator: "; "))")
            }
        }
    }

    /// Deletes every partition's closed segments past its topic's retention (as
    /// `runnel log retention --apply`). It needs the log's writer lock: while a relay holds it
    /// in another process, the run fails naming that process, and the next fire time tries again.
    public static var logRetention: ScheduledJob {
        ScheduledJob(summary: "log retention") { run in
            let log = try Log.open(run.store.home.logURL)
            do {
                // Retention is about the log as it is now, whichever fire time the run is for.
                let deleted = try log.partitions().reduce(0) { $0 + (try $1.applyRetention()).segmentsRemoved }
                try log.close()
                run.logger.info("scheduled retention", metadata: ["runnel.schedule.entry": "\(run.entry)", "runnel.log.segments.deleted": "\(deleted)"])
            } catch {
                try? log.close()   // the retention error is the one to report
                throw error
            }
        }
    }

    /// Builds a new version of a KV store from its pipeline's view of the log (as
    /// `runnel kv publish STORE`), when it changed since the last version.
    /// - Parameter store: A KV store one of the catalog's pipelines writes.
    public static func kvPublish(_ store: String) -> ScheduledJob {
        ScheduledJob(summary: "publish kv/\(store)", kvStores: [store]) { run in
            _ = try KVPublisher.publish(store, from: run.store, onlyIfChanged: true)
        }
    }

    /// Runs a Swift closure with the store and the fire time.
    ///
    /// ```swift
    /// .run("nightly export") { run in try export(run.store, upTo: run.fireTime) }
    /// ```
    /// - Parameters:
    ///   - summary: What it does, for `schedule list`.
    ///   - body: The job; throwing records the run `failed` with the error.
    public static func run(_ summary: String = "a Swift closure", _ body: @escaping @Sendable (ScheduledRun) async throws -> Void) -> ScheduledJob {
        ScheduledJob(summary: summary, body: body)
    }
}

/// One run of a schedule entry, as its job sees it.
public struct ScheduledRun: Sendable {
    /// The entry's name.
    public let entry: String
    /// The fire time this run is for (not when it started: a catch-up run starts later).
    public let fireTime: Date
    /// 1 for the first attempt, more after abandoned attempts.
    public let attempt: Int
    /// The home's store.
    public let store: Store
    /// The catalog the scheduler runs.
    public let catalog: Catalog
    /// Where the job logs.
    public let logger: Logger
}
