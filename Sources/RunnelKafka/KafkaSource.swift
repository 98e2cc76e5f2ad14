import CRdKafka
import Foundation
import Runnel

extension RecordSource {
    /// A Kafka cluster's topics as a pipeline's source: all partitions of each topic the
    /// pipeline reads, or the selected ones (`"0-3"`), so N machines split a topic, each with
    /// its own `derived.sqlite` (Samza's model: a task per partition, with local state).
    ///
    /// Offsets are kept in `derived.sqlite` in the transaction of each batch's views and
    /// state, as with the file log, never committed to a Kafka consumer group.
    ///
    /// ```swift
    /// let source = try RecordSource.kafka(KafkaSettings(bootstrapServers: "broker:9092"), partitions: "0-1")
    /// let runner = try PipelineRunner(pipeline: engagement, store: store, source: source)
    /// ```
    /// - Throws: ``RunnelError`` `.kafka` when the cluster cannot be reached.
    public static func kafka(_ settings: KafkaSettings, partitions: PartitionSelection? = nil) throws -> RecordSource {
        RecordSource(try KafkaSourceReader(settings: settings, selection: partitions))
    }
}

/// The reading side of a Kafka source.
final class KafkaSourceReader: SourceReader {
    let reader: KafkaReader
    let selection: PartitionSelection?
    let identity: String

    init(settings: KafkaSettings, selection: PartitionSelection?) throws {
        reader = try KafkaReader(settings: settings)
        self.selection = selection
        guard let cluster = reader.handle.clusterID() else {
            throw KafkaFailure.error(RD_KAFKA_RESP_ERR__TRANSPORT, doing: "telling its cluster id", settings: settings,
                                     detail: "no broker answered within \(settings.requestTimeout)")
        }
        identity = "kafka:\(cluster)" + (selection.map { " partitions \($0)" } ?? "")
    }

    var description: String {
        "Kafka at \(reader.settings.bootstrapServers)" + (selection.map { ", partitions \($0)" } ?? "")
    }

    func partitions(of topic: String) throws -> [any SourcePartition]? {
        guard let count = try reader.partitionCount(of: topic) else { return nil }
        let chosen = try selection?.select(from: count, of: topic, in: "Kafka at \(reader.settings.bootstrapServers)") ?? Array(0..<count)
        return try chosen.map { partition in
            let made = KafkaSourcePartition(reader: reader, topic: topic, partition: partition)
            try made.refresh()
            return made
        }
    }

    /// None: a Kafka source is looked at on a timer.
    func watchedFolders(topics: [String], partitions: [any SourcePartition]) -> [URL] { [] }

    /// A follower looks every 100 ms: from then on, partitions being read take their ends from
    /// their fetcher's last answer instead of asking their leaders each time.
    func beginFollowing() { reader.usesFetchedEnds = true }
}

/// One partition of a Kafka topic, its bounds as of the last ``refresh()``.
final class KafkaSourcePartition: SourcePartition {
    private let reader: KafkaReader
    let topic: String
    let partition: Int
    private(set) var startOffset: Int64 = 0
    private(set) var endOffset: Int64 = 0

    init(reader: KafkaReader, topic: String, partition: Int) {
        self.reader = reader
        self.topic = topic
        self.partition = partition
    }

    var gaps: [LogGap] { [] }
    /// Unknown without reading the newest record: lag is told in records only.
    var newestTimestamp: Int64? { nil }
    var location: String { "\(topic)/\(partition) in Kafka at \(reader.settings.bootstrapServers)" }

    func refresh() throws {
        (startOffset, endOffset) = try reader.latestWatermarks(topic, partition)
    }

    func read(from offset: Int64, _ body: (LogRecordView) throws -> Bool) throws -> Int64 {
        let reader = reader
        return try reader.read(topic, partition, from: offset, to: endOffset) { message in
            try reader.withView(of: message, body)
        }
    }
}
