import Foundation
import Logging
import Runnel
import ServiceLifecycle

/// Runnel's Kafka features through librdkafka, for the command line (`--to kafka`,
/// `--from kafka`, `log mirror`):
///
/// ```swift
/// await RunnelCommand.main(catalog: MyApp.catalog, kafka: LibrdkafkaConnector())
/// ```
public struct LibrdkafkaConnector: KafkaConnector {
    public init() {}

    public func relay(store: Store, settings: KafkaSettings, configuration: OutboxRelay.Configuration, logger: Logger) throws -> OutboxRelay {
        try OutboxRelay(store: store, kafka: settings, configuration: configuration, logger: logger)
    }

    public func source(settings: KafkaSettings, partitions: PartitionSelection?) throws -> RecordSource {
        try RecordSource.kafka(settings, partitions: partitions)
    }

    public func mirror(store: Store, settings: KafkaSettings, topics: [String]?, follow: Bool, logger: Logger) async throws -> LogMirrorSummary {
        try await ServiceThread.run(named: "runnel.mirror") {
            try await LogMirrorRun(store: store, settings: settings, topics: topics, logger: logger).run(follow: follow)
        }
    }
}

/// A mirror's run: to the log's end, or following it. Following, a failed cycle (the cluster
/// down, a delivery not acknowledged) is logged and retried after a backoff, 1 s doubling up to
/// 30 s; the positions are stored only for acknowledged records, so nothing is lost or doubled.
struct LogMirrorRun {
    let store: Store
    let settings: KafkaSettings
    let topics: [String]?
    let logger: Logger
    /// How often a caught-up mirror looks at the log.
    var idleCheckInterval: Duration = .milliseconds(100)

    func run(follow: Bool) async throws -> LogMirrorSummary {
        guard follow else { return try LogMirror(store: store, settings: settings, topics: topics, logger: logger).drain() }
        var mirror: LogMirror?
        var total = LogMirrorSummary()
        var retry = RetryDelay()
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                // Made (again) here, so a cluster that does not answer at start is waited for.
                let current = try mirror ?? LogMirror(store: store, settings: settings, topics: topics, logger: logger)
                mirror = current
                let cycle = try current.mirrorOnce()
                total.add(cycle)
                retry.reset()
                if cycle.records > 0 { continue }
                await RetryDelay.sleep(for: idleCheckInterval)
            } catch let error as RunnelError where error.code == .kafka {
                logger.warning("mirror cycle failed; retrying", metadata: ["error": "\(error)", "mirror.retry_in": "\(retry.current)"])
                await retry.wait()
            }
        }
        logger.info("mirror stopping after its last batch")
        return total
    }
}
