import Foundation

/// Where ``OutboxRelay`` puts records: the home's file log, or (with RunnelKafka) a Kafka
/// cluster. The relay's rules — id order, one partition per key, rows deleted only once their
/// records are durable, ids already there skipped after a crash — are the relay's; a
/// destination only stores records and reads back its tail.
package protocol RelayDestination: AnyObject {
    /// The destination as messages name it: the log's folder, or the cluster's bootstrap servers.
    var name: String { get }
    /// The topics to look at for learning at start-up what an interrupted run already wrote,
    /// given the topics of the rows waiting in the outboxes (a cluster may hold thousands of
    /// topics that have nothing to do with this home).
    func topicNames(pending: Set<String>) throws -> [String]
    /// A topic that exists, or nil.
    func existingTopic(_ name: String) throws -> RelayTopic?
    /// A topic, created with `defaults` when it does not exist.
    func topic(_ name: String, creatingWith defaults: TopicConfiguration) throws -> RelayTopic
    /// Calls `visit` with the newest records of a partition, newest first, until it returns
    /// false or the destination has shown every record an interrupted run can have left (the
    /// file log: its last batch, which holds the last cycle's last append).
    func visitTail(of topic: String, partition: Int, _ visit: (LogRecord) throws -> Bool) throws
    /// Where a partition lives, for messages.
    func location(of topic: String, partition: Int) -> String
    /// Whether reading a partition's tail costs enough (a network round trip, records read
    /// back) that the relay reads only the partitions its next cycle can have written.
    var tailIsRemote: Bool { get }
    /// Waits, before the tail is read, until records that may still land have landed (a
    /// failed delivery that may have been stored).
    func prepareToReadTails() throws
    /// After a failed cycle: waits until nothing appended since the last ``flush()`` is still
    /// on its way, and starts afresh (a Kafka producer is replaced).
    func abandonUnflushed()
    /// Appends records, in order, to a partition; they are durable only after ``flush()``.
    func append(_ records: ArraySlice<LogRecord>, to topic: String, partition: Int) throws
    /// Makes every record appended so far durable (fsync; every delivery acknowledged), or
    /// throws: then some of them may be there and some not, and the relay learns which from
    /// the tail before it goes on.
    func flush() throws
}

/// A topic as the relay needs it.
package struct RelayTopic: Sendable {
    package var name: String
    package var partitions: Int
    /// The largest record (key, value, headers) the topic takes.
    package var maxRecordBytes: Int

    package init(name: String, partitions: Int, maxRecordBytes: Int) {
        self.name = name
        self.partitions = partitions
        self.maxRecordBytes = maxRecordBytes
    }

    /// The partition of a record: Kafka's murmur2 of the key (the Java client's and
    /// librdkafka's `murmur2_random`), or for a record without a key, its outbox id spread round.
    package func partition(for key: [UInt8]?, sequence: Int) -> Int {
        guard let key else { return sequence % partitions }
        return Murmur2.partition(forKey: key, partitions: partitions)
    }
}

/// The home's file log as the relay's destination.
final class LogDestination: RelayDestination {
    let log: Log
    private var opened: [String: LogTopic] = [:]

    init(_ log: Log) {
        precondition(log.isWritable, "the relay needs the log open for writing")
        self.log = log
    }

    var name: String { log.folder.path }

    /// Every topic: the log is the home's own, and a restored database is refused whatever it
    /// has pending.
    func topicNames(pending: Set<String>) throws -> [String] { log.topicNames }

    func existingTopic(_ name: String) throws -> RelayTopic? {
        try logTopic(name).map(Self.relayTopic)
    }

    func topic(_ name: String, creatingWith defaults: TopicConfiguration) throws -> RelayTopic {
        if let known = opened[name] { return Self.relayTopic(known) }
        let topic = try log.topic(name, creatingWith: defaults)
        opened[name] = topic
        return Self.relayTopic(topic)
    }

    private func logTopic(_ name: String) throws -> LogTopic? {
        if let known = opened[name] { return known }
        let topic = try log.topic(name)
        opened[name] = topic
        return topic
    }

    private static func relayTopic(_ topic: LogTopic) -> RelayTopic {
        RelayTopic(name: topic.name, partitions: topic.partitions.count, maxRecordBytes: topic.configuration.maxRecordBytes)
    }

    func visitTail(of topic: String, partition: Int, _ visit: (LogRecord) throws -> Bool) throws {
        guard let found = try logTopic(topic) else { return }
        for record in try found.partitions[partition].lastBatch().reversed() where try !visit(record) { return }
    }

    func location(of topic: String, partition: Int) -> String {
        log.folder.appendingPathComponent(topic).appendingPathComponent(String(partition)).path
    }

    var tailIsRemote: Bool { false }

    func prepareToReadTails() throws {}

    /// Appends are written at once; an unflushed one is found (or cut as a torn tail) by the
    /// next tail read.
    func abandonUnflushed() {}

    func append(_ records: ArraySlice<LogRecord>, to topic: String, partition: Int) throws {
        guard let found = try opened[topic] ?? logTopic(topic) else { preconditionFailure("append to topic \(topic) before it was opened") }
        try found.partitions[partition].append(Array(records))
    }

    func flush() throws { try log.flush() }
}
