import Foundation
import Logging
import ServiceLifecycle

/// A pipeline in follow mode (nearline): runs batches as the log grows, waiting a poll interval
/// when it has caught up, until a graceful shutdown (SIGTERM), which it honours between
/// batches, so the batch in hand commits before it returns.
///
/// The runner holds the pipeline's lock while the service runs (see ``PipelineRunner``): a
/// second follower of the same pipeline is refused.
public struct PipelineService: Service {
    public let pipeline: Pipeline
    public let store: Store
    public let options: PipelineRunner.Options
    /// How long to wait before looking at the log again when caught up.
    public var pollInterval: Duration
    private let logger: Logger
    /// A lock the caller took for the pipeline (`runnel run`), or nil to take it on start.
    private let lock: RunnerLock?

    public init(pipeline: Pipeline, store: Store, options: PipelineRunner.Options = .init(), pollInterval: Duration = .milliseconds(2),
                logger: Logger = Logger(label: "runnel.pipeline")) {
        self.pipeline = pipeline
        self.store = store
        self.options = options
        self.pollInterval = pollInterval
        self.logger = logger
        lock = nil
    }

    /// A follower that runs under a lock the caller already holds for the pipeline.
    package init(pipeline: Pipeline, store: Store, options: PipelineRunner.Options, holding lock: RunnerLock, logger: Logger) {
        self.pipeline = pipeline
        self.store = store
        self.options = options
        pollInterval = .milliseconds(2)
        self.logger = logger
        self.lock = lock
    }

    public func run() async throws {
        let runner = try PipelineRunner(pipeline: pipeline, store: store, options: options, logger: logger, locking: lock.map { .held($0) } ?? .acquire)
        logger.info("pipeline following the log", metadata: ["pipeline": "\(pipeline.name)"])
        let clock = ContinuousClock()
        var lastPublish = clock.now
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let batch = try runner.runBatch()
            if batch.records == 0 {
                // KV stores are published when caught up, at most once per interval: a version
                // is a whole file, too big to write per batch.
                if clock.now - lastPublish >= options.kvPublishInterval {
                    publishKVStores(runner)
                    lastPublish = clock.now
                }
                try? await Task.sleep(for: pollInterval)
            }
        }
        publishKVStores(runner)
        logger.info("pipeline stopping after its last batch", metadata: ["pipeline": "\(pipeline.name)"])
    }

    /// Publishes the pipeline's KV stores. A failure (another process building the same store,
    /// a full disk) is logged and retried at the next interval: the entries are committed, so
    /// nothing is lost, and the follower keeps the views current meanwhile.
    private func publishKVStores(_ runner: PipelineRunner) {
        do {
            try runner.publishKVStores()
        } catch {
            logger.error("kv publish failed; the follower retries at its next interval", metadata: [
                "pipeline": "\(pipeline.name)", "error": "\(error)",
            ])
        }
    }
}
