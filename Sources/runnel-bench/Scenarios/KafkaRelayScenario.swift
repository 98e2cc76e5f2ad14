import CRdKafka
import Foundation
import Runnel
import RunnelKafka
import RunnelTesting

/// `kafka-relay`: draining the app outbox into a Kafka cluster (``OutboxRelay/init(store:kafka:configuration:logger:)``:
/// an idempotent producer, `acks=all`, rows deleted once every record of the cycle is
/// acknowledged) beside the file-log relay draining the same rows into the home's log.
///
/// The cluster is librdkafka's mock, three brokers started in this process: the protocol is
/// real (produce requests, acknowledgements, idempotence), but there is no network hop, no
/// replication to wait for and no disk. The ratio is for information only: it says what the
/// Kafka path costs on this machine, not what a real cluster would do.
struct KafkaRelayScenario: Scenario {
    let name = "kafka-relay"
    let summary = "relaying outbox rows into librdkafka's mock Kafka cluster vs relaying the same rows into the file log (for information: a mock is not a broker)"
    let unit = "rows/s"
    /// None: the figure is for information.
    let goal = 0.0

    static func size(quick: Bool) -> RelayScenario.Size {
        quick ? RelayScenario.Size(rounds: 2, rowsPerRound: 20_000, warmUpRows: 5_000)
              : RelayScenario.Size(rounds: 4, rowsPerRound: 50_000, warmUpRows: 10_000)
    }

    func run(quick: Bool) throws -> SideBySideMeasurement {
        let cluster = try InProcessMockCluster(brokers: 3)
        try cluster.createTopic(BenchEvent.topic, partitions: 1)
        let kafkaHome = try TemporaryHome(label: "bench-kafka-relay")
        let logHome = try TemporaryHome(label: "bench-kafka-relay-log")
        return try withExtendedLifetime((cluster, kafkaHome, logHome)) {
            try measure(cluster: cluster, kafkaHome: kafkaHome, logHome: logHome, size: Self.size(quick: quick))
        }
    }

    private func measure(cluster: InProcessMockCluster, kafkaHome: TemporaryHome, logHome: TemporaryHome,
                         size: RelayScenario.Size) throws -> SideBySideMeasurement {
        let kafkaStore = try kafkaHome.openStore()
        let logStore = try logHome.openStore()
        let settings = KafkaSettings(bootstrapServers: cluster.bootstrapServers)
        let kafkaRelay = try OutboxRelay(store: kafkaStore, kafka: settings)
        let log = try Log.open(logHome.home.logURL)
        let logRelay = try OutboxRelay(store: logStore, log: log)

        let interleaving = Interleaving(rounds: size.rounds, warmUpRounds: 1)
        var filled = 0
        let sides = try interleaving.run(
            input: { round in
                let rows = round < interleaving.warmUpRounds ? size.warmUpRows : size.rowsPerRound
                try RelayScenario.fill(kafkaStore, from: filled, count: rows)
                try RelayScenario.fill(logStore, from: filled, count: rows)
                filled += rows
                return rows
            },
            runnel: { rows, tally in
                let summary = try tally.time { try kafkaRelay.drain() }
                guard summary.relayed == rows, try RelayScenario.pending(kafkaStore).rows == 0 else {
                    throw BenchmarkError("\(name): the Kafka relay moved \(summary.relayed) of \(rows) rows")
                }
            },
            baseline: { rows, tally in
                let summary = try tally.time { try logRelay.drain() }
                guard summary.relayed == rows, try RelayScenario.pending(logStore).rows == 0 else {
                    throw BenchmarkError("\(name): the file-log relay moved \(summary.relayed) of \(rows) rows")
                }
            })

        // Same work: every row is in the cluster, and in the log.
        let inCluster = try cluster.endOffset(of: BenchEvent.topic, partition: 0)
        guard let topic = try log.topic(BenchEvent.topic) else { throw BenchmarkError("\(name): the file-log relay created no topic") }
        let inLog = topic.partitions.reduce(Int64(0)) { $0 + $1.endOffset }
        guard inCluster == Int64(filled), inLog == Int64(filled) else {
            throw BenchmarkError("\(name): \(inCluster) records in the cluster and \(inLog) in the log; \(filled) rows were appended")
        }
        try log.close()

        let countedRows = Double(size.rounds * size.rowsPerRound)
        let kafkaRate = countedRows / sides.runnel.elapsed.seconds
        let logRate = countedRows / sides.baseline.elapsed.seconds
        let roundRatios = sides.roundRatios
        return SideBySideMeasurement(
            runnel: kafkaRate,
            baseline: logRate,
            detail: [
                Figure("kafka_rows_per_s", kafkaRate),
                Figure("file_log_rows_per_s", logRate),
                Figure("rows_per_side", Int(countedRows)),
                Figure("batch_rows", kafkaRelay.configuration.batchSize),
                Figure("mock_brokers", 3),
                Figure("rounds", size.rounds),
                Figure("round_ratio_min", roundRatios.min),
                Figure("round_ratio_max", roundRatios.max),
            ],
            note: "\(size.rounds) rounds × \(size.rowsPerRound) rows a side; Kafka: librdkafka's mock cluster (3 brokers, in this process), "
                + "idempotent producer, acks=all, rows deleted per acknowledged cycle; baseline: the file-log relay (fsync per cycle). "
                + "For information only: a mock broker has no network, replication or disk, so this is not a real cluster's figure")
    }
}

/// librdkafka's mock cluster, run by a client handle of this process.
final class InProcessMockCluster: @unchecked Sendable {
    // @unchecked: the handles are librdkafka's, thread-safe; used from the scenario's thread.
    private let handle: OpaquePointer
    private let cluster: OpaquePointer
    let bootstrapServers: String

    init(brokers: Int32) throws {
        var errorText = [CChar](repeating: 0, count: 512)
        let configuration = rd_kafka_conf_new()
        rd_kafka_conf_set(configuration, "log_level", "3", &errorText, errorText.count)
        guard let handle = rd_kafka_new(RD_KAFKA_PRODUCER, configuration, &errorText, errorText.count) else {
            throw BenchmarkError("kafka-relay: librdkafka cannot make a client for the mock cluster")
        }
        guard let cluster = rd_kafka_mock_cluster_new(handle, brokers) else {
            rd_kafka_destroy(handle)
            throw BenchmarkError("kafka-relay: librdkafka cannot start a mock cluster")
        }
        self.handle = handle
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(handle)
    }

    func createTopic(_ name: String, partitions: Int32) throws {
        let code = rd_kafka_mock_topic_create(cluster, name, partitions, 3)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw BenchmarkError("kafka-relay: the mock cluster cannot create topic \(name): \(String(cString: rd_kafka_err2str(code)))")
        }
    }

    /// The offset the partition's next record will get, asked of the cluster.
    func endOffset(of topic: String, partition: Int32) throws -> Int64 {
        var errorText = [CChar](repeating: 0, count: 512)
        let configuration = rd_kafka_conf_new()
        rd_kafka_conf_set(configuration, "bootstrap.servers", bootstrapServers, &errorText, errorText.count)
        rd_kafka_conf_set(configuration, "log_level", "3", &errorText, errorText.count)
        guard let consumer = rd_kafka_new(RD_KAFKA_CONSUMER, configuration, &errorText, errorText.count) else {
            throw BenchmarkError("kafka-relay: cannot make a client to count the cluster's records")
        }
        defer { rd_kafka_destroy(consumer) }
        var low: Int64 = 0, high: Int64 = 0
        let code = rd_kafka_query_watermark_offsets(consumer, topic, partition, &low, &high, 10_000)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw BenchmarkError("kafka-relay: cannot read the cluster's offsets: \(String(cString: rd_kafka_err2str(code)))")
        }
        return high
    }
}
