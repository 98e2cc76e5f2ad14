import Foundation
import Logging

/// How Runnel reaches a Kafka cluster.
///
/// ```swift
/// let kafka = KafkaSettings(bootstrapServers: "broker1:9092,broker2:9092")
/// ```
public struct KafkaSettings: Sendable, Hashable {
    /// `HOST:PORT` of one or more brokers, comma-separated: where clients learn the cluster.
    public var bootstrapServers: String
    /// More librdkafka properties for every client Runnel makes (`security.protocol`,
    /// `sasl.mechanisms`, `ssl.ca.location`, …). Runnel's own settings (idempotence, acks,
    /// topic auto-creation off) cannot be overridden here.
    public var properties: [String: String]
    /// How long a request (metadata, offsets, a fetch of records known to exist) may take before
    /// it fails with an error naming the cluster.
    public var requestTimeout: Duration
    /// How long a produced record may wait for the cluster's acknowledgement; past it, the
    /// record counts as not delivered and its outbox row stays for the next attempt.
    public var deliveryTimeout: Duration

    public init(bootstrapServers: String, properties: [String: String] = [:],
                requestTimeout: Duration = .seconds(30), deliveryTimeout: Duration = .seconds(30)) {
        self.bootstrapServers = bootstrapServers
        self.properties = properties
        self.requestTimeout = requestTimeout
        self.deliveryTimeout = deliveryTimeout
    }

    /// Checks the settings before any client is made.
    /// - Throws: ``RunnelError`` `.invalidArgument` naming what is wrong.
    public func validate() throws {
        let servers = bootstrapServers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !servers.isEmpty, servers.allSatisfy({ !$0.isEmpty }) else {
            throw RunnelError(.invalidArgument, "no Kafka bootstrap servers given",
                              hint: "Pass --bootstrap-servers HOST:PORT[,HOST:PORT…], the address of one or more brokers")
        }
        for server in servers where server.split(separator: ":").last.flatMap({ Int($0) }) == nil {
            throw RunnelError(.invalidArgument, "Kafka bootstrap server \(server) has no port",
                              hint: "Write it as HOST:PORT, for example localhost:9092")
        }
        guard requestTimeout > .zero, deliveryTimeout > .zero else {
            throw RunnelError(.invalidArgument, "Kafka timeouts must be positive")
        }
    }
}

/// Kafka for Runnel's command line, supplied by RunnelKafka (`LibrdkafkaConnector()`): the
/// command line takes one so its `--to kafka` and `--from kafka` options work, while Runnel
/// itself links no Kafka client.
///
/// ```swift
/// await RunnelCommand.main(catalog: MyApp.catalog, kafka: LibrdkafkaConnector())
/// ```
public protocol KafkaConnector: Sendable {
    /// A relay from the home's outboxes into the cluster (see `OutboxRelay`).
    func relay(store: Store, settings: KafkaSettings, configuration: OutboxRelay.Configuration, logger: Logger) throws -> OutboxRelay
    /// The cluster's topics as a pipeline's source, all partitions or the selected ones.
    func source(settings: KafkaSettings, partitions: PartitionSelection?) throws -> RecordSource
    /// Mirrors the home's log into the cluster, record for record: to the log's current end,
    /// or with `follow`, as it grows until a graceful shutdown.
    func mirror(store: Store, settings: KafkaSettings, topics: [String]?, follow: Bool, logger: Logger) async throws -> LogMirrorSummary
}

/// What a mirror run did.
public struct LogMirrorSummary: Sendable, Hashable {
    /// Records produced into the cluster and acknowledged.
    public var records = 0
    /// Records found already in the cluster from an interrupted run, and not produced again.
    public var alreadyMirrored = 0
    /// Records retention deleted from the log before the mirror read them.
    public var lostToRetention: Int64 = 0
    /// The partitions mirrored.
    public var partitions = 0

    public init() {}
}
