import ArgumentParser
import Foundation
import Logging
import Runnel
import ServiceLifecycle

/// `runnel run NAME… [--follow] [--rebuild]`, `runnel run --all`: pipelines, handlers and saga
/// coordinators.
struct RunCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        let program = CLIContext.current.programName
        return CommandConfiguration(
            commandName: "run",
            abstract: "Run pipelines, handlers and saga coordinators over the log.",
            discussion: """
                NAME is a pipeline, a handler or a saga of the catalog (`\(program) pipelines`, \
                `\(program) sagas`); --all runs every pipeline, then every handler, then every saga's \
                coordinator. Without --follow (batch mode), each reads from where it stopped to the current \
                end of the log and stops: a pipeline closes the windows the watermark allows; a handler \
                applies its commands, business rows, replies and offsets in one app.sqlite transaction per \
                batch (a command id it completed before is ignored); a coordinator starts instances, applies \
                replies and acts on the deadlines that have come (timeouts, retries), sending commands and \
                compensations through the app outbox — `\(program) relay` carries them to the handlers. With \
                --follow, all of them keep reading as the relay appends (nearline), coordinators also waking \
                at their next deadline, until SIGTERM or SIGINT, then commit the batch in hand and exit 0. \
                Every batch commits in one transaction, so a crash replays it exactly once. Undecodable \
                records go to runnel_pipeline_dead_letters (derived.sqlite) or, for handlers and sagas, \
                runnel_consumer_dead_letters (app.sqlite); late events to runnel_pipeline_late_events \
                (\(program) inspect table … --db derived). --rebuild (pipelines only) drops a pipeline's views \
                and state and replays the log from offset 0; it is required after a version change. A gap in \
                the log (offsets a lost segment held) stops a pipeline with an error after committing what \
                came before; --skip-gap (pipelines only) goes on past it and records the skip in \
                runnel_pipeline_skipped_gaps. With --all, both apply to the pipelines only. One process runs \
                a pipeline, handler or saga at a time: one another process is running is refused (exit 1) \
                with that process's pid, before anything is done.
                """)
    }

    @Argument(help: "The pipelines, handlers and sagas to run (see `\(CLIContext.current.programName) pipelines` and `\(CLIContext.current.programName) sagas`).")
    var names: [String] = []
    @Flag(help: "Run every pipeline, then every handler, then every saga coordinator in the catalog.") var all = false
    @Flag(help: "Keep running as the log grows (nearline).") var follow = false
    @Flag(help: "Pipelines only: drop the pipelines' views and state first and replay the log from offset 0.") var rebuild = false
    @Flag(help: "Pipelines only: go on past a gap in the log (a lost segment) instead of stopping there, recording the skip in runnel_pipeline_skipped_gaps.")
    var skipGap = false
    @Option(help: "Read the home's log, or kafka (with --bootstrap-servers): the Kafka topics of the same names, offsets kept in derived.sqlite (pipelines) or app.sqlite (handlers, sagas).")
    var from: LogPlace = .log
    @Option(help: ArgumentHelp("Pipelines only: read only these partitions of each topic (0-3, 0,2), so several machines split a topic, each with its own home.",
                               valueName: "list"))
    var partitions: String?
    @OptionGroup var kafka: KafkaOptions
    @Option(help: "Records per batch, one transaction each (default: 100000 for a pipeline, where larger batches write each changed window fewer times; a handler's or saga's own, 1000 unless its declaration says).")
    var batchSize: Int?
    @OptionGroup var home: HomeOptions

    func validate() throws {
        guard all != !names.isEmpty else { throw ValidationError("name the pipelines, handlers or sagas to run, or pass --all (not both)") }
        guard (batchSize ?? 1) > 0 else { throw ValidationError("--batch-size must be positive") }
        switch from {
        case .log: try kafka.refuseUnused("--from kafka")
        case .kafka: _ = try kafka.settings(for: "--from kafka")
        }
        if let partitions {
            do {
                _ = try PartitionSelection(parsing: partitions)
            } catch let error as RunnelError {
                throw ValidationError(error.message + (error.hint.map { ". \($0)" } ?? ""))
            }
        }
    }

    /// Makes the source each pipeline reads, when it is not the home's whole log.
    private func sourceMaker() throws -> (@Sendable () throws -> RecordSource)? {
        let selection = try partitions.map { try PartitionSelection(parsing: $0) }
        switch from {
        case .kafka:
            let settings = try kafka.settings(for: "--from kafka")
            let connector = try KafkaOptions.connector()
            return { try connector.source(settings: settings, partitions: selection) }
        case .log:
            guard let selection else { return nil }
            let home = home.resolved
            return {
                try FileManager.default.createDirectory(at: home.logURL, withIntermediateDirectories: true)
                return .log(try Log.openForReading(home.logURL), partitions: selection)
            }
        }
    }

    /// What `run` was asked to run, in the order it runs them: pipelines, handlers, sagas.
    struct Selection {
        var pipelines: [Pipeline] = []
        var handlers: [Handler] = []
        var sagas: [Saga] = []

        var isEmpty: Bool { pipelines.isEmpty && handlers.isEmpty && sagas.isEmpty }
    }

    /// The catalog's runnables by name, or all of them.
    static func select(_ names: [String], all: Bool, in catalog: Catalog) throws -> Selection {
        if all { return Selection(pipelines: catalog.pipelines, handlers: catalog.handlers, sagas: catalog.sagas) }
        var selection = Selection()
        var seen = Set<String>()
        for name in names where seen.insert(name).inserted {
            if let pipeline = catalog.pipelines.first(where: { $0.name == name }) {
                selection.pipelines.append(pipeline)
            } else if let handler = catalog.handler(named: name) {
                selection.handlers.append(handler)
            } else if let saga = catalog.saga(named: name) {
                selection.sagas.append(saga)
            } else {
                throw RunnelError(.notFound, "no pipeline, handler or saga named \(name) in the \(catalog.name) catalog", hint: choices(in: catalog))
            }
        }
        return selection
    }

    /// "Choose one of: pipelines a, b; handlers c; sagas d".
    static func choices(in catalog: Catalog) -> String {
        let groups = [("pipelines", catalog.pipelines.map(\.name)), ("handlers", catalog.handlers.map(\.name)), ("sagas", catalog.sagas.map(\.name))]
            .filter { !$0.1.isEmpty }
            .map { "\($0.0) \($0.1.joined(separator: ", "))" }
        return groups.isEmpty ? "This catalog has no pipelines, handlers or sagas" : "Choose one of: " + groups.joined(separator: "; ")
    }

    func run() async throws {
        let context = CLIContext.current
        let selection = try Self.select(names, all: all, in: context.catalog)
        guard !selection.isEmpty else {
            throw RunnelError(.notFound, "the \(context.catalog.name) catalog has no pipelines, handlers or sagas")
        }
        // Pipeline options named for a handler or saga would be silently ignored: refuse them.
        if !all, rebuild || skipGap, let other = selection.handlers.first.map({ "handler \($0.name)" }) ?? selection.sagas.first.map({ "saga \($0.name)" }) {
            let flag = rebuild ? "--rebuild" : "--skip-gap"
            throw ValidationError("\(flag) applies to pipelines only, and \(other) is not one: run it without \(flag)")
        }
        // Handlers and coordinators read every partition: a saga's replies must reach the
        // coordinator that started it, and a handler's effects land in this home's app.sqlite.
        if partitions != nil, let other = selection.handlers.first.map({ "handler \($0.name)" }) ?? selection.sagas.first.map({ "saga \($0.name)" }) {
            throw ValidationError("--partitions applies to pipelines only (handlers and saga coordinators read every partition), and \(other) is not one: run it separately, without --partitions")
        }
        let makeSource = try sourceMaker()
        // Handlers and coordinators follow the same cluster as the pipelines, all partitions.
        let makeWholeSource = partitions == nil ? makeSource : nil
        let store = try Store.open(home.resolved)
        // `--rebuild` drops the state below, before any runner opens, so the runners themselves never rebuild.
        let options = PipelineRunner.Options(batchSize: batchSize ?? PipelineRunner.Options().batchSize, rebuild: false, skipGaps: skipGap)
        let handlers = selection.handlers.map { handler in
            var sized = handler
            sized.batchSize = batchSize ?? handler.batchSize
            return sized
        }
        let sagas = selection.sagas.map { saga in
            var sized = saga
            sized.batchSize = batchSize ?? saga.batchSize
            return sized
        }
        // Every lock is taken before any state is touched, so a run that would collide with
        // another is refused whole, not after it has done half its work.
        var locks: [RunnerLock] = []
        for pipeline in selection.pipelines {
            locks.append(try RunnerLock.acquire(.pipeline, named: pipeline.name, in: store.home))
        }
        let handlerLocks = try handlers.map { try RunnerLock.acquire(.handler, named: $0.name, in: store.home) }
        let sagaLocks = try sagas.map { try RunnerLock.acquire(.saga, named: $0.name, in: store.home) }
        // Rebuilds happen before any pipeline runs, so none reads half-dropped state, and an
        // interrupted `--rebuild` leaves every pipeline marked as rebuilding: the next plain run
        // of each finishes the replay.
        if rebuild {
            for (pipeline, lock) in zip(selection.pipelines, locks) { try PipelineRunner.dropState(of: pipeline, in: store, holding: lock) }
        }
        guard follow else {
            for (pipeline, lock) in zip(selection.pipelines, locks) {
                try Self.runToEnd(pipeline, store: store, options: options, console: context.console, lock: lock, source: makeSource?())
            }
            for (handler, lock) in zip(handlers, handlerLocks) {
                let runner = try HandlerRunner(handler: handler, store: store, clock: SystemWallClock(), logger: Logger(label: "runnel.handler"), holding: lock,
                                               source: makeWholeSource?())
                context.console.print(Self.describe(handler, try runner.runToEnd()))
            }
            for (saga, lock) in zip(sagas, sagaLocks) {
                let coordinator = try SagaCoordinator(saga: saga, store: store, clock: SystemWallClock(), logger: Logger(label: "runnel.saga"), holding: lock,
                                                      source: makeWholeSource?())
                context.console.print(Self.describe(saga, try coordinator.runToEnd()))
            }
            return
        }
        let logger = Logger(label: "runnel.run")
        var services: [any Service] = zip(selection.pipelines, locks).map {
            PipelineService(pipeline: $0, store: store, options: options, holding: $1, logger: Logger(label: "runnel.pipeline"), source: makeSource)
        }
        services += zip(handlers, handlerLocks).map {
            HandlerService(handler: $0, store: store, logger: Logger(label: "runnel.handler"), holding: $1, source: makeWholeSource) as any Service
        }
        services += zip(sagas, sagaLocks).map {
            SagaService(saga: $0, store: store, logger: Logger(label: "runnel.saga"), holding: $1, source: makeWholeSource) as any Service
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// `email: 120 records, 118 handled, 1 duplicate ignored, 1 to runnel_consumer_dead_letters.`
    static func describe(_ handler: Handler, _ summary: HandlerRunner.Summary) -> String {
        var line = "\(handler.name): \(counted(summary.records, "record")), \(summary.handled) handled"
        if summary.duplicates > 0 { line += ", \(counted(summary.duplicates, "duplicate")) ignored" }
        if summary.skipped > 0 { line += ", \(summary.skipped) skipped (types it does not take)" }
        if summary.deadLetters > 0 { line += ", \(summary.deadLetters) to runnel_consumer_dead_letters" }
        return line + "."
    }

    /// `trip: 3 started, 6 replies, 7 commands sent, 1 compensation sent, 2 completed, 1 compensated, 0 failed, 0 timeouts.`
    static func describe(_ saga: Saga, _ summary: SagaCoordinator.Summary) -> String {
        var line = "\(saga.name): \(summary.started) started, \(counted(summary.replies, "reply", "replies")), "
            + "\(counted(summary.commandsSent, "command")) sent, \(counted(summary.compensationsSent, "compensation")) sent, "
            + "\(summary.completed) completed, \(summary.compensated) compensated, \(summary.failed) failed, \(counted(summary.timeouts, "timeout"))"
        if summary.retries > 0 { line += ", \(counted(summary.retries, "retry", "retries"))" }
        if summary.duplicateStarts > 0 { line += ", \(counted(summary.duplicateStarts, "duplicate start")) ignored" }
        if summary.ignoredReplies > 0 { line += ", \(summary.ignoredReplies) of the replies ignored (duplicate, late or unknown: see the timeline)" }
        if summary.deadLetters > 0 { line += ", \(summary.deadLetters) to runnel_consumer_dead_letters" }
        if summary.failed > 0 { line += "; failed instances need an operator: `\(CLIContext.current.programName) saga list --saga \(saga.name) --state failed`" }
        return line + "."
    }

    /// `1 record`, `2 records`.
    static func counted(_ count: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(count) \(count == 1 ? singular : plural ?? singular + "s")"
    }

    /// Skipped records by type, most first: `InvitationAccept ×3, (tombstone) ×1`.
    static func skippedTypes(_ counts: [String: Int]) -> String {
        counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
            .map { "\($0.key.isEmpty ? "(no type)" : $0.key) ×\($0.value)" }.joined(separator: ", ")
    }

    /// Runs one pipeline to the log's end and prints what it did; shared with `demo`.
    /// - Parameter lock: The pipeline's lock, when the caller took it; otherwise it is taken here.
    /// - Parameter source: Where to read, when not the home's whole log.
    static func runToEnd(_ pipeline: Pipeline, store: Store, options: PipelineRunner.Options, console: Console, lock: RunnerLock? = nil,
                         source: RecordSource? = nil) throws {
        let locking: PipelineRunner.Locking = lock.map { .held($0) } ?? .acquire
        let logger = Logger(label: "runnel.pipeline")
        let runner = try source.map { try PipelineRunner(pipeline: pipeline, store: store, source: $0, options: options, logger: logger, locking: locking) }
            ?? PipelineRunner(pipeline: pipeline, store: store, options: options, logger: logger, locking: locking)
        let progress = ProgressReporter(console: console, label: pipeline.name)
        let started = ContinuousClock.now
        let summary = try runner.runToEnd { done, total in progress.update(done: done, total: total) }
        progress.finish()
        let elapsed = ContinuousClock.now - started
        var line = "\(pipeline.name) v\(pipeline.version): \(summary.records) records in \(summary.batches) batches (\(elapsed.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow))))"
        if summary.deadLetters > 0 { line += "; \(summary.deadLetters) to runnel_pipeline_dead_letters" }
        if summary.dropped > 0 { line += "; \(summary.dropped) dropped as the pipeline says (duplicates, missing lookup rows)" }
        if summary.lateEvents > 0 { line += "; \(summary.lateEvents) late, in runnel_pipeline_late_events" }
        if summary.recordsLostToRetention > 0 { line += "; \(summary.recordsLostToRetention) records were deleted by retention before it read them" }
        if summary.skipped > 0 { line += "; \(summary.skipped) skipped, no source reads them: \(skippedTypes(summary.skippedByType))" }
        console.print(line + ".")
        for source in summary.idleSources {
            console.note("warning: \(pipeline.name): \(source) took none of the records read from \(source.topic) in this run"
                + (summary.skippedByType.isEmpty ? "" : "; the types skipped were \(skippedTypes(summary.skippedByType))")
                + ". Check the source's type string against the events' `type`")
        }
        for manifest in summary.published {
            console.print("  published kv/\(manifest.store) v\(manifest.version): \(manifest.keyCount) keys, \(manifest.fileSize) bytes (\(manifest.buildMilliseconds) ms)")
        }
    }
}
