import Foundation
import Logging
import ServiceLifecycle

/// A pipeline in follow mode (nearline): runs batches as the log grows, and suspends when it
/// has caught up until the log changes, until a graceful shutdown (SIGTERM), which it honours
/// between batches, so the batch in hand commits before it returns.
///
/// It runs on a thread of its own (its batches block on SQLite and the log's files), so work
/// elsewhere in the process cannot delay it, nor it them. It is woken by an append to the log
/// in the same process at once, and by another process's append through the file watcher
/// (inotify on Linux); it also looks every ``idleCheckInterval`` — the only way to notice
/// appends where there is no file watcher.
///
/// The runner holds the pipeline's lock while the service runs (see ``PipelineRunner``): a
/// second follower of the same pipeline is refused.
public struct PipelineService: Service {
    public let pipeline: Pipeline
    public let store: Store
    public let options: PipelineRunner.Options
    /// How often the follower looks at the log when nothing woke it.
    public var idleCheckInterval: Duration
    private let logger: Logger
    /// A lock the caller took for the pipeline (`runnel run`), or nil to take it on start.
    private let lock: RunnerLock?
    /// Makes the source the runner reads (a Kafka cluster, some partitions of the log) at each
    /// start; nil reads the home's whole log.
    private let makeSource: (@Sendable () throws -> RecordSource)?

    /// Creates a follower for a pipeline.
    /// - Parameters:
    ///   - pipeline: The pipeline to run.
    ///   - store: The home's databases.
    ///   - options: How the runner batches, rebuilds and publishes KV stores.
    ///   - idleCheckInterval: How often to look without a wake-up; nil picks 1 s where the
    ///     system has a file watcher and 10 ms where it does not.
    ///   - logger: Where the follower logs its start, its stop and failed KV publishes.
    public init(pipeline: Pipeline, store: Store, options: PipelineRunner.Options = .init(), idleCheckInterval: Duration? = nil,
                logger: Logger = Logger(label: "runnel.pipeline")) {
        self.init(pipeline: pipeline, store: store, options: options, idleCheckInterval: idleCheckInterval, lock: nil, logger: logger)
    }

    /// A follower that runs under a lock the caller already holds for the pipeline.
    /// - Parameter source: Makes the source to read at each start (one per runner: a source is
    ///   read from one thread); nil reads the home's whole log.
    package init(pipeline: Pipeline, store: Store, options: PipelineRunner.Options, holding lock: RunnerLock, logger: Logger,
                 source: (@Sendable () throws -> RecordSource)? = nil) {
        self.init(pipeline: pipeline, store: store, options: options, idleCheckInterval: nil, lock: lock, logger: logger, source: source)
    }

    private init(pipeline: Pipeline, store: Store, options: PipelineRunner.Options, idleCheckInterval: Duration?, lock: RunnerLock?, logger: Logger,
                 source: (@Sendable () throws -> RecordSource)? = nil) {
        self.makeSource = source
        self.pipeline = pipeline
        self.store = store
        self.options = options
        self.idleCheckInterval = idleCheckInterval ?? FileWatcher.idleCheckInterval
        self.logger = logger
        self.lock = lock
    }

    public func run() async throws {
        try await ServiceThread.run(named: "runnel.pipeline") { try await follow() }
    }

    private func follow() async throws {
        let signal = ChangeSignal()
        // Subscribed before the first batch: an append from then on is noticed even while a
        // batch runs (the signal keeps it for the next wait).
        let notices = LogAppendNotices.subscribe(signal, toLogIn: store.home.logURL)
        defer { LogAppendNotices.unsubscribe(notices) }
        let subscription = FileWatcher.shared?.subscribe(signal, to: [])
        defer { subscription.map { FileWatcher.shared?.cancel($0) } }
        // Before the runner loads its state, so a scheduled job of this process that starts at
        // the same moment already finds the pipeline followed.
        InProcessFollowers.enter(pipeline.name, in: store.home)
        defer { InProcessFollowers.leave(pipeline.name, in: store.home) }
        let locking: PipelineRunner.Locking = lock.map { .held($0) } ?? .acquire
        // A cluster that is down when the follower starts is waited for.
        let made = try await RecordSource.forFollower(makeSource, logger: logger, runner: "pipeline \(pipeline.name)")
        if case .stopped = made { return }
        let runner = try RecordSource.followed(made).map { try PipelineRunner(pipeline: pipeline, store: store, source: $0, options: options, logger: logger, locking: locking) }
            ?? PipelineRunner(pipeline: pipeline, store: store, options: options, logger: logger, locking: locking)
        logger.info("pipeline following the log", metadata: ["pipeline": "\(pipeline.name)", "pipeline.source": "\(runner.source)"])
        // A source without folders to watch (a Kafka cluster) is looked at on a short timer.
        let idleCheckInterval = runner.inputFolders.isEmpty ? min(idleCheckInterval, .milliseconds(100)) : idleCheckInterval
        let clock = ContinuousClock()
        var lastPublish = clock.now
        // Entries committed since the KV stores were last published (or a publish failed);
        // at start, an earlier run may have committed some it did not publish.
        var unpublished = runner.writesKVStores
        var watched = 0
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let batch = try runner.runBatch()
            if batch.records > 0 {
                unpublished = unpublished || runner.writesKVStores
                continue
            }
            // KV stores are published when caught up, at most once per interval: a version
            // is a whole file, too big to write per batch.
            if unpublished, clock.now - lastPublish >= options.kvPublishInterval {
                unpublished = !publishKVStores(runner)
                lastPublish = clock.now
            }
            // Folders appear with topics and partitions: watch the new ones, then look once
            // more, since an append just before the watch began would wake nobody.
            let folders = runner.inputFolders
            if let subscription, folders.count != watched {
                FileWatcher.shared?.add(folders, to: subscription)
                watched = folders.count
                continue
            }
            var timeout = idleCheckInterval
            if unpublished { timeout = min(timeout, max(.zero, options.kvPublishInterval - (clock.now - lastPublish))) }
            await signal.wait(timeout: timeout)
        }
        _ = publishKVStores(runner)
        logger.info("pipeline stopping after its last batch", metadata: ["pipeline": "\(pipeline.name)"])
    }

    /// Publishes the pipeline's KV stores. A failure (another process building the same store,
    /// a full disk) is logged and retried at the next interval: the entries are committed, so
    /// nothing is lost, and the follower keeps the views current meanwhile.
    /// - Returns: Whether the stores are published.
    private func publishKVStores(_ runner: PipelineRunner) -> Bool {
        do {
            try runner.publishKVStores()
            return true
        } catch {
            logger.error("kv publish failed; the follower retries at its next interval", metadata: [
                "pipeline": "\(pipeline.name)", "error": "\(error)",
            ])
            return false
        }
    }
}
