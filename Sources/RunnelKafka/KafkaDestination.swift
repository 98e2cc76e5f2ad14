import CRdKafka
import Foundation
import Logging
import Runnel

/// A Kafka cluster as the relay's destination: records produced by an idempotent producer to
/// the partition the file log would give them, and durable once every delivery report is in.
///
/// Topics get the partition count the home's log has for them (so a key lands in the same
/// partition in both), or for a topic the log does not have, the relay's default; a topic
/// that exists in Kafka with another count is refused. A missing topic is created through the
/// admin API with the Kafka equivalents of its Runnel settings.
final class KafkaDestination: RelayDestination {
    let settings: KafkaSettings
    /// The home's log folder, whose topics' settings Kafka's topics must match.
    private let logFolder: URL
    private var producer: KafkaProducer?
    /// When a failed delivery that may have been stored was last reported.
    private var possiblyStoredFailureAt: ContinuousClock.Instant?
    /// Reads the cluster's partitions back: their tails at start-up, a mirror's deliveries.
    let reader: KafkaReader
    private var known: [String: RelayTopic] = [:]
    private let logger: Logger
    /// The most records a start-up looks back through, per partition, for the newest record
    /// of each of the home's databases (other producers' records may lie on top of them).
    var tailScanLimit: Int64 = 100_000

    init(settings: KafkaSettings, logFolder: URL, logger: Logger) throws {
        self.settings = settings
        self.logFolder = logFolder
        self.logger = logger
        reader = try KafkaReader(settings: settings)
        producer = try KafkaProducer(settings: settings)
    }

    var name: String { "Kafka at \(settings.bootstrapServers)" }

    private func liveProducer() throws -> KafkaProducer {
        if let producer { return producer }
        let made = try KafkaProducer(settings: settings)
        producer = made
        return made
    }

    func topicNames(pending: Set<String>) throws -> [String] {
        // Only topics with rows waiting can hold records to skip; a cluster may have thousands.
        try pending.sorted().filter { try existingTopic($0) != nil }
    }

    /// The settings the home's log has for a topic, if it has the topic.
    private func localConfiguration(of topic: String) -> TopicConfiguration? {
        let file = logFolder.appendingPathComponent(topic).appendingPathComponent("topic.json")
        guard let data = try? Data(contentsOf: file) else { return nil }
        return try? JSONDecoder().decode(TopicConfiguration.self, from: data)
    }

    func existingTopic(_ name: String) throws -> RelayTopic? {
        if let found = known[name] { return found }
        guard let count = try reader.partitionCount(of: name) else { return nil }
        let found = RelayTopic(name: name, partitions: count, maxRecordBytes: (localConfiguration(of: name) ?? TopicConfiguration()).maxRecordBytes)
        known[name] = found
        return found
    }

    func topic(_ name: String, creatingWith defaults: TopicConfiguration) throws -> RelayTopic {
        let local = localConfiguration(of: name)
        let wanted = local ?? defaults
        let origin = local == nil ? "the relay's default for new topics (--partitions)" : "the home's log (\(logFolder.appendingPathComponent(name).path))"
        if let found = try existingTopic(name) {
            guard found.partitions == wanted.partitions else {
                throw RunnelError(.kafkaRefused,
                                  "topic \(name) has \(found.partitions) partitions in Kafka at \(settings.bootstrapServers), but \(wanted.partitions) in \(origin): its keys would land in other partitions than Runnel gives them, and pipelines split by partition would disagree",
                                  hint: local == nil
                                    ? "Relay with --partitions \(found.partitions), or create the topic in Kafka with \(wanted.partitions) partitions"
                                    : "Create the topic in Kafka with \(wanted.partitions) partitions (a topic's partition count cannot shrink), or move it aside")
            }
            return found
        }
        try liveProducer().createTopic(name, partitions: wanted.partitions, configuration: Self.kafkaConfiguration(wanted))
        logger.notice("created Kafka topic", metadata: ["kafka.topic": "\(name)", "kafka.partitions": "\(wanted.partitions)"])
        // Metadata reaches every broker a moment after creation.
        for _ in 0..<50 {
            if let made = try existingTopic(name) {
                guard made.partitions == wanted.partitions else { return try topic(name, creatingWith: defaults) }
                return made
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw RunnelError(.kafka, "Kafka at \(settings.bootstrapServers) created topic \(name) but does not show it 5 s later",
                          hint: "Run the command again; the topic is probably there by then")
    }

    /// A Runnel topic's settings as Kafka topic configs.
    static func kafkaConfiguration(_ configuration: TopicConfiguration) -> [String: String] {
        var kafka = [
            "cleanup.policy": configuration.compact ? "compact" : "delete",
            "segment.bytes": String(configuration.segmentBytes),
            "segment.ms": String(configuration.segmentMs),
            "delete.retention.ms": String(configuration.deleteRetentionMs),
            // Kafka's limit is on the whole batch: room for its header and the records' framing.
            "max.message.bytes": String(max(configuration.maxRecordBytes + 65_536, 1_048_588)),
            "retention.ms": String(configuration.retentionMs ?? -1),
        ]
        if let bytes = configuration.retentionBytes { kafka["retention.bytes"] = String(bytes) }
        return kafka
    }

    func visitTail(of topic: String, partition: Int, _ visit: (LogRecord) throws -> Bool) throws {
        let (low, high) = try reader.watermarks(topic, partition)
        var end = high
        var window: Int64 = 256
        var scanned: Int64 = 0
        while end > low {
            let start = max(low, end - window)
            var records: [LogRecord] = []
            _ = try reader.read(topic, partition, from: start, to: end) { message in
                records.append(KafkaReader.record(of: message))
                return true
            }
            for record in records.reversed() where try !visit(record) {
                reader.stop(topic, partition)
                return
            }
            scanned += end - start
            end = start
            window = min(window * 2, 65_536)
            if scanned >= tailScanLimit, end > low {
                logger.notice("stopped looking back for the relay's newest records", metadata: [
                    "kafka.topic": "\(topic)", "kafka.partition": "\(partition)", "kafka.records_looked_at": "\(scanned)",
                ])
                break
            }
        }
        // The fetcher would go on prefetching the partition for nothing.
        reader.stop(topic, partition)
    }

    func location(of topic: String, partition: Int) -> String {
        "\(topic)/\(partition) in Kafka at \(settings.bootstrapServers)"
    }

    var tailIsRemote: Bool { true }

    /// A record whose delivery failed after its request reached a broker may still be appended
    /// (and, with `acks=all`, become visible once replicated) for up to a request timeout: the
    /// tail is read after that.
    func prepareToReadTails() throws {
        guard let failedAt = possiblyStoredFailureAt else { return }
        let wait = failedAt + settings.requestTimeout - ContinuousClock.now
        if wait > .zero {
            logger.notice("waiting for records whose delivery failed but may have been stored, before reading the tail", metadata: [
                "kafka.wait": "\(wait)",
            ])
            Thread.sleep(forTimeInterval: Double(wait.milliseconds) / 1000)
        }
        possiblyStoredFailureAt = nil
    }

    func append(_ records: ArraySlice<LogRecord>, to topic: String, partition: Int) throws {
        let producer = try liveProducer()
        do {
            for record in records {
                try producer.produce(record, topic: topic, partition: partition)
            }
        } catch {
            // What was queued before the failure must not land after the next tail read: wait
            // for all of it, then start afresh.
            _ = try? producer.flush()
            retire(producer)
            throw error
        }
        producer.poll()
    }

    func abandonUnflushed() {
        guard let producer else { return }
        _ = try? producer.flush()
        retire(producer)
    }

    /// Drops a producer after a failure, keeping when it may have stored failed records.
    private func retire(_ producer: KafkaProducer) {
        if let at = producer.possiblyStoredFailureAt { possiblyStoredFailureAt = max(possiblyStoredFailureAt ?? at, at) }
        self.producer = nil
    }

    func flush() throws {
        guard let producer else { return }
        do {
            try producer.flush()
        } catch {
            // A producer whose deliveries failed may have stored some and not others, and an
            // idempotent one may be fenced: the next cycle starts a new one after learning the tail.
            retire(producer)
            throw error
        }
    }
}

extension OutboxRelay {
    /// A relay into a Kafka cluster instead of the home's log: the same records (key, value,
    /// headers, event time as the timestamp), in the same partitions, exactly once across
    /// crashes — rows are deleted from the outbox only once the cluster acknowledged their
    /// records, and a new relay first reads the tail of each partition it writes to and skips
    /// the rows already there.
    ///
    /// ```swift
    /// let relay = try OutboxRelay(store: store, kafka: KafkaSettings(bootstrapServers: "broker:9092"))
    /// try relay.drain()
    /// ```
    /// - Throws: ``RunnelError`` `.kafka` when the cluster cannot be reached or refuses.
    public convenience init(store: Store, kafka settings: KafkaSettings, configuration: Configuration = Configuration(),
                            logger: Logger = Logger(label: "runnel.relay")) throws {
        let destination = try KafkaDestination(settings: settings, logFolder: store.home.logURL, logger: logger)
        try self.init(store: store, destination: destination, configuration: configuration, logger: logger)
    }
}
