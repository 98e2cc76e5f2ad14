import ArgumentParser
import Foundation
import Logging
import Runnel
import ServiceLifecycle

/// `runnel run NAME… [--follow] [--rebuild]`, `runnel run --all`.
struct RunCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "run",
            abstract: "Run pipelines over the log into their read views and derived topics.",
            discussion: """
                Without --follow (batch mode), each pipeline reads from its checkpoint to the current end \
                of the log, closes the windows the watermark allows, and stops. With --follow, the \
                pipelines keep reading as the relay appends (nearline) until SIGTERM or SIGINT, then \
                commit the batch in hand and exit 0. Every batch commits view rows, state, offsets and \
                watermarks in one transaction, so a crash replays it exactly once. Undecodable records go \
                to runnel_pipeline_dead_letters and late events to runnel_pipeline_late_events \
                (\(CLIContext.current.programName) inspect table … --db derived). --rebuild drops a pipeline's views and state and \
                replays the log from offset 0; it is required after a version change. A gap in the log \
                (offsets a lost segment held) stops a pipeline with an error after committing what came \
                before; --skip-gap goes on past it and records the skip in runnel_pipeline_skipped_gaps. \
                One process runs a pipeline at a time: a pipeline another process is running is refused \
                (exit 1) with that process's pid, before anything is done.
                """)
    }

    @Argument(help: "The pipelines to run (see `\(CLIContext.current.programName) pipelines`).") var names: [String] = []
    @Flag(help: "Run every pipeline in the catalog.") var all = false
    @Flag(help: "Keep running as the log grows (nearline).") var follow = false
    @Flag(help: "Drop the pipelines' views and state first and replay the log from offset 0.") var rebuild = false
    @Flag(help: "Go on past a gap in the log (a lost segment) instead of stopping there, recording the skip in runnel_pipeline_skipped_gaps.")
    var skipGap = false
    @Option(help: "Records per batch (one transaction each): larger batches write each changed window fewer times.") var batchSize = PipelineRunner.Options().batchSize
    @OptionGroup var home: HomeOptions

    func validate() throws {
        guard all != !names.isEmpty else { throw ValidationError("name the pipelines to run, or pass --all (not both)") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    }

    func run() async throws {
        let context = CLIContext.current
        let pipelines = all ? context.catalog.pipelines : try names.map { try context.catalog.pipeline(named: $0) }
        guard !pipelines.isEmpty else {
            throw RunnelError(.notFound, "the \(context.catalog.name) catalog has no pipelines")
        }
        let store = try Store.open(home.resolved)
        // `--rebuild` drops the state below, before any runner opens, so the runners themselves never rebuild.
        let options = PipelineRunner.Options(batchSize: batchSize, rebuild: false, skipGaps: skipGap)
        // One runner per pipeline: every lock is taken before any state is touched, so a run
        // that would collide with another is refused whole, not after it has done half its work.
        var locks: [RunnerLock] = []
        for pipeline in pipelines {
            locks.append(try RunnerLock.acquire(.pipeline, named: pipeline.name, in: store.home))
        }
        // Rebuilds happen before any pipeline runs, so none reads half-dropped state, and an
        // interrupted `--rebuild` leaves every pipeline marked as rebuilding: the next plain run
        // of each finishes the replay.
        if rebuild {
            for (pipeline, lock) in zip(pipelines, locks) { try PipelineRunner.dropState(of: pipeline, in: store, holding: lock) }
        }
        guard follow else {
            for (pipeline, lock) in zip(pipelines, locks) {
                try Self.runToEnd(pipeline, store: store, options: options, console: context.console, lock: lock)
            }
            return
        }
        let logger = Logger(label: "runnel.pipeline")
        let services = zip(pipelines, locks).map { PipelineService(pipeline: $0, store: store, options: options, holding: $1, logger: logger) }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// Skipped records by type, most first: `InvitationAccept ×3, (tombstone) ×1`.
    static func skippedTypes(_ counts: [String: Int]) -> String {
        counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
            .map { "\($0.key.isEmpty ? "(no type)" : $0.key) ×\($0.value)" }.joined(separator: ", ")
    }

    /// Runs one pipeline to the log's end and prints what it did; shared with `demo`.
    /// - Parameter lock: The pipeline's lock, when the caller took it; otherwise it is taken here.
    static func runToEnd(_ pipeline: Pipeline, store: Store, options: PipelineRunner.Options, console: Console, lock: RunnerLock? = nil) throws {
        let runner = try PipelineRunner(pipeline: pipeline, store: store, options: options, logger: Logger(label: "runnel.pipeline"),
                                        locking: lock.map { .held($0) } ?? .acquire)
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
