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
    /// Whether the job reads the catalog's exception tickets, which the catalog must then keep.
    let needsTickets: Bool
    let body: @Sendable (ScheduledRun) async throws -> Void

    private init(summary: String, pipelines: [String] = [], kvStores: [String] = [], needsTickets: Bool = false,
                 body: @escaping @Sendable (ScheduledRun) async throws -> Void) {
        self.summary = summary
        self.pipelines = pipelines
        self.kvStores = kvStores
        self.needsTickets = needsTickets
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
                    try await runToEnd(try run.catalog.pipeline(named: name), for: run)
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
            // In a process that relays (`runnel up`), the relay's log: retention deletes closed
            // segments while appends go on.
            if let log = Log.openWriter(of: run.store.home.logURL) {
                let deleted = try log.partitions().reduce(0) { $0 + (try $1.applyRetention()).segmentsRemoved }
                run.logger.info("scheduled retention", metadata: ["runnel.schedule.entry": "\(run.entry)", "runnel.log.segments.deleted": "\(deleted)"])
                return
            }
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

    /// Runs a pipeline to the log's end for a scheduled run. Another runner holding the
    /// pipeline is waited for up to 5 seconds, in case it is a job of this scheduler that fired
    /// at the same minute (the sample's pipelines every 5 minutes and its report at 5 past
    /// share 5 past the hour) and finishes in a moment; a runner still there after that (a
    /// follower in another process) fails the run with its `.concurrentRunner` error.
    ///
    /// A pipeline this process follows (``PipelineService``, as in `runnel up`) is current
    /// already: the run has nothing to do and succeeds.
    private static func runToEnd(_ pipeline: Pipeline, for run: ScheduledRun) async throws {
        var waited = 0
        while true {
            // Looked at on every attempt: a follower starting with the process, or restarting
            // after a failure, holds the lock a moment before it counts as following.
            if InProcessFollowers.isFollowed(pipeline.name, in: run.store.home) {
                run.logger.info("scheduled pipeline run: followed in this process, nothing to do", metadata: [
                    "runnel.schedule.entry": "\(run.entry)", "runnel.pipeline.name": "\(pipeline.name)",
                ])
                return
            }
            do {
                let runner = try PipelineRunner(pipeline: pipeline, store: run.store, logger: run.logger)
                let summary = try runner.runToEnd()
                run.logger.info("scheduled pipeline run", metadata: [
                    "runnel.schedule.entry": "\(run.entry)", "runnel.pipeline.name": "\(pipeline.name)", "runnel.pipeline.records": "\(summary.records)",
                ])
                return
            } catch let error as RunnelError where error.code == .concurrentRunner && waited < 50 {
                waited += 1
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Writes the exception report of the UTC hour before the fire time's hour (fired at 14:05,
    /// it reports 13:00–14:00) and regenerates the dashboard, as `runnel report exceptions
    /// --hour …` does, into `reports/exceptions/`.
    ///
    /// It first runs the catalog's tickets pipeline to the log's end, so the hour's exceptions
    /// relayed by then are counted. When another process is running that pipeline
    /// (`runnel run --follow`, or a `.pipelines` entry at the same minute), the report is
    /// written from what that process has committed. The catalog must keep exception tickets
    /// (``Catalog/tickets``); ``Catalog/validate()`` refuses the entry otherwise.
    ///
    /// Exceptions of the hour relayed after the run are left out; a later run for the same fire
    /// time, or `runnel report exceptions --hour`, writes the report again with them. Fire it a
    /// few minutes past the hour (`5 * * * *`) so late exceptions have arrived.
    public static var exceptionReport: ScheduledJob {
        ScheduledJob(summary: "exception report", needsTickets: true) { run in
            guard let tickets = run.catalog.tickets else {
                throw RunnelError(.schedule, "the \(run.catalog.name) catalog keeps no exception tickets to report",
                                  hint: "Give the catalog tickets: ExceptionTickets(…)")
            }
            do {
                try await runToEnd(try run.catalog.pipeline(named: tickets.pipelineName), for: run)
            } catch let error as RunnelError where error.code == .concurrentRunner {
                run.logger.info("tickets pipeline running in another process; reporting what it committed", metadata: [
                    "runnel.schedule.entry": "\(run.entry)", "runnel.pipeline.name": "\(tickets.pipelineName)",
                ])
            }
            let hour = Date(timeIntervalSince1970: Double(ReportTime.hourStart(of: run.fireTime) - ReportTime.secondsPerHour))
            let files = try ExceptionReportWriter(store: run.store, title: run.catalog.name).write(hour: hour)
            run.logger.info("scheduled exception report", metadata: [
                "runnel.schedule.entry": "\(run.entry)", "runnel.report.path": "\(files.html.path)",
            ])
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
