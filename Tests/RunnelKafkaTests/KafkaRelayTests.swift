import Foundation
import GRDB
@testable import Runnel
@testable import RunnelKafka
import RunnelTesting
import Testing

struct Note: Codable, Sendable {
    var sequence: Int
    var text: String
}

/// An outbox row as committed, to check the cluster against.
struct CommittedRow: Hashable {
    var role: DatabaseRole
    var id: Int64
    var topic: String
    var key: String?
    var type: String
    var payload: String
    var eventTime: Int64

    /// `app/12`: how the record's headers name it.
    var name: String { "\(role.rawValue)/\(id)" }
}

extension CommittedRow {
    init(_ row: OutboxWriter.Row) {
        self.init(role: row.role, id: row.id, topic: row.topic, key: row.key, type: row.type, payload: row.payload, eventTime: row.eventTime)
    }
}

/// Appends `count` rows to an outbox, one transaction each, keys cycling over 11 (every
/// seventh row without a key).
func appendNotes(_ store: Store, _ role: DatabaseRole = .app, count: Int, from first: Int = 0) throws {
    for sequence in first..<(first + count) {
        _ = try store.database(role).write { db in
            try store.outbox.append(OutboxEvent(topic: role == .app ? "notes" : "derived-notes", key: sequence % 7 == 6 ? nil : "k\(sequence % 11)",
                                                type: "Noted", payload: Note(sequence: sequence, text: "kafka"), eventTime: Date()), in: db)
        }
    }
}

/// The rows waiting in both outboxes.
func pendingRows(_ store: Store) throws -> [CommittedRow] {
    try DatabaseRole.allCases.flatMap { role in
        try store.database(role).read { db in
            try Row.fetchAll(db, sql: "SELECT id, topic, key, type, payload, event_time FROM runnel_outbox ORDER BY id").map {
                CommittedRow(role: role, id: $0["id"], topic: $0["topic"], key: $0["key"], type: $0["type"], payload: $0["payload"], eventTime: $0["event_time"])
            }
        }
    }
}

/// Checks that the cluster holds every committed row exactly once, in the partition its key
/// picks, after the rows of the same key committed before it, with its headers.
func expectExactlyOnce(_ committed: [CommittedRow], in cluster: MockCluster, partitions: Int, seed: UInt64? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
    let context = seed.map { "seed \($0): " } ?? ""
    var wrong: [String] = []
    var seen: [String: Int] = [:]
    var found: [String: (partition: Int, record: LogRecord)] = [:]
    for topic in Set(committed.map(\.topic)) {
        for (partition, records) in try cluster.records(of: topic) {
            var lastID: [String: Int64] = [:]
            for record in records {
                let source = String(decoding: record.header("outbox-source") ?? [], as: UTF8.self)
                let id = Int64(String(decoding: record.header("outbox-id") ?? [], as: UTF8.self)) ?? -1
                let name = "\(source)/\(id)"
                seen[name, default: 0] += 1
                found[name] = (partition, record)
                // A partition receives a database's rows in commit (id) order.
                if id <= lastID[source] ?? 0 { wrong.append("\(topic)/\(partition) holds \(name) after id \(lastID[source] ?? 0)") }
                lastID[source] = id
            }
        }
    }
    let doubled = seen.filter { $0.value > 1 }.keys.sorted()
    #expect(doubled.count == 0, "\(context)\(doubled.count) rows are in the cluster more than once: \(doubled.prefix(10))", sourceLocation: sourceLocation)
    let missing = committed.filter { seen[$0.name] == nil }.map(\.name)
    #expect(missing.count == 0, "\(context)\(missing.count) committed rows are not in the cluster, first \(missing.prefix(5))", sourceLocation: sourceLocation)
    let unknown = Set(seen.keys).subtracting(committed.map(\.name)).sorted()
    #expect(unknown.count == 0, "\(context)the cluster holds \(unknown.count) rows nobody committed: \(unknown.prefix(5))", sourceLocation: sourceLocation)
    for row in committed {
        guard let (partition, record) = found[row.name] else { continue }
        if let key = row.key, partition != Murmur2.partition(forKey: Array(key.utf8), partitions: partitions) {
            wrong.append("\(row.name): key \(key) in partition \(partition)")
        }
        let key: [UInt8]? = row.key.map { Array($0.utf8) }
        let sameContent: Bool = record.key == key && record.value == Array(row.payload.utf8) && record.timestamp == row.eventTime
        let sameHeaders: Bool = record.header("type") == Array(row.type.utf8) && record.header("schema-version") == Array("1".utf8)
            && record.header("outbox-database") != nil
        if !(sameContent && sameHeaders) { wrong.append("\(row.name) arrived as \(record)") }
    }
    #expect(wrong.count == 0, "\(context)\(wrong.count) records differ from their rows: \(wrong.prefix(3))", sourceLocation: sourceLocation)
}

/// The relay into a Kafka cluster (librdkafka's mock): every row exactly once, in key order,
/// with its headers, through broker errors, an unreachable cluster and acknowledgements that
/// come too late; read back by Runnel's consumer and by kcat.
@Suite struct KafkaRelayTests {
    /// A mock cluster with the notes topics (3 partitions each), and a home to relay from;
    /// the home lives as long as the returned value.
    static func notesHome(_ label: String) throws -> (MockCluster, TemporaryHome, Store) {
        let cluster = try MockCluster()
        for topic in ["notes", "derived-notes"] { try cluster.createTopic(topic, partitions: 3) }
        let temporary = try TemporaryHome(label: label)
        return (cluster, temporary, try temporary.openStore())
    }

    static func relay(_ store: Store, _ cluster: MockCluster, timeout: Duration = .seconds(10), partitions: Int = 3) throws -> OutboxRelay {
        try OutboxRelay(store: store, kafka: cluster.settings(timeout: timeout),
                        configuration: .init(batchSize: 97, topicDefaults: TopicConfiguration(partitions: partitions)))
    }

    @Test func everyRowArrivesOnceInKeyOrderWithItsHeadersAndKcatReadsTheSame() throws {
        let (cluster, temporary, store) = try Self.notesHome("kafka-relay")
        defer { withExtendedLifetime(temporary) {} }
        try appendNotes(store, count: 400)
        try appendNotes(store, .derived, count: 60)
        let committed = try pendingRows(store)

        let summary = try Self.relay(store, cluster).drain()
        #expect(summary.relayed == 460 && summary.skippedAsAlreadyInLog == 0)
        #expect(try pendingRows(store).isEmpty)
        try expectExactlyOnce(committed, in: cluster, partitions: 3)

        // kcat, a separate client, reads the same records from the same partitions.
        for topic in ["notes", "derived-notes"] {
            let ours = try cluster.records(of: topic)
            let theirs = try cluster.recordsByKcat(of: topic)
            let theirCount: Int = theirs.values.reduce(0) { $0 + $1.count }
            let ourCount: Int = ours.values.reduce(0) { $0 + $1.count }
            #expect(theirCount == ourCount, "topic \(topic)")
            for (partition, records) in ours {
                #expect(theirs[partition] == records, "topic \(topic) partition \(partition): kcat read other records")
            }
        }
    }

    @Test func injectedBrokerErrorsAreRetriedWithoutLossOrDuplicates() throws {
        let (cluster, temporary, store) = try Self.notesHome("kafka-relay-errors")
        defer { withExtendedLifetime(temporary) {} }
        try appendNotes(store, count: 300)
        // NOT_LEADER_OR_FOLLOWER (6) and REQUEST_TIMED_OUT (7) on produce, LEADER_NOT_AVAILABLE
        // (5) on metadata: retriable, as a cluster electing leaders answers.
        try cluster.command("errors produce 4 6")
        try cluster.command("errors produce 3 7")
        try cluster.command("errors metadata 2 5")
        let committed = try pendingRows(store)
        let summary = try Self.relay(store, cluster).drain()
        #expect(summary.relayed == 300)
        try expectExactlyOnce(committed, in: cluster, partitions: 3)
    }

    @Test func aClusterThatIsDownKeepsTheRowsInTheOutboxUntilItIsBack() throws {
        let (cluster, temporary, store) = try Self.notesHome("kafka-relay-down")
        defer { withExtendedLifetime(temporary) {} }
        try appendNotes(store, count: 100)
        var committed = try pendingRows(store)
        let relay = try Self.relay(store, cluster, timeout: .seconds(2))
        #expect(try relay.drain().relayed == 100)

        try appendNotes(store, count: 150, from: 100)
        committed += try pendingRows(store)
        for broker in 1...3 { try cluster.command("down \(broker)") }
        let failure = #expect(throws: RunnelError.self) { try relay.drain() }
        #expect(failure?.code == .kafka, "\(String(describing: failure))")
        #expect(failure?.hint?.contains("nothing was lost") == true, "\(String(describing: failure))")
        // Nothing left the outbox, and the backlog says so.
        #expect(try pendingRows(store).count == 150)
        #expect(try relay.backlog().rows == 150)

        for broker in 1...3 { try cluster.command("up \(broker)") }
        // The same relay goes on once the cluster answers, having learned what it holds.
        let summary = try relay.drain()
        #expect(summary.relayed + summary.skippedAsAlreadyInLog == 150)
        #expect(try pendingRows(store).isEmpty)
        try expectExactlyOnce(committed, in: cluster, partitions: 3)
    }

    /// Acknowledgements slower than the delivery timeout: the cluster stores the records, the
    /// relay counts them as failed and keeps the rows. A retry must find them there and skip
    /// them, not send them again.
    @Test func recordsStoredButAcknowledgedTooLateAreNotSentTwice() throws {
        let (cluster, temporary, store) = try Self.notesHome("kafka-relay-late")
        defer { withExtendedLifetime(temporary) {} }
        try appendNotes(store, count: 20)
        var committed = try pendingRows(store)
        let relay = try Self.relay(store, cluster, timeout: .seconds(1))
        // Connected, with its producer id: the next produce requests go out at once.
        #expect(try relay.drain().relayed == 20)
        try appendNotes(store, count: 200, from: 20)
        committed += try pendingRows(store)
        for broker in 1...3 { try cluster.command("rtt \(broker) 2500") }
        #expect(throws: RunnelError.self) { try relay.drain() }
        #expect(try pendingRows(store).count == 200, "rows left the outbox though their delivery was not acknowledged")
        for broker in 1...3 { try cluster.command("rtt \(broker) 0") }
        // Let the late acknowledgements of the first attempt arrive before looking.
        Thread.sleep(forTimeInterval: 3)
        let summary = try relay.drain()
        #expect(summary.skippedAsAlreadyInLog > 0, "the retry found none of the late-acknowledged records: \(summary)")
        #expect(summary.relayed + summary.skippedAsAlreadyInLog == 200)
        try expectExactlyOnce(committed, in: cluster, partitions: 3)
    }

    @Test func aTopicWithAnotherPartitionCountIsRefusedAndNothingLeavesTheOutbox() throws {
        let cluster = try MockCluster()
        try cluster.createTopic("notes", partitions: 2)
        let temporary = try TemporaryHome(label: "kafka-relay-mismatch")
        let store = try temporary.openStore()
        try appendNotes(store, count: 10)
        let failure = #expect(throws: RunnelError.self) { try Self.relay(store, cluster, partitions: 3).drain() }
        #expect(failure?.code == .kafkaRefused)
        #expect(failure?.message.contains("topic notes has 2 partitions in Kafka") == true, "\(String(describing: failure))")
        #expect(failure?.hint?.contains("--partitions 2") == true, "\(String(describing: failure))")
        #expect(try pendingRows(store).count == 10)
    }
}
