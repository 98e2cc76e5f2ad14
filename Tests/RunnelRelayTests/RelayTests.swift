import Foundation
import GRDB
@testable import Runnel
import RunnelTesting
import Testing

struct Note: Codable, Sendable {
    var sequence: Int
    var text: String
}

/// Appends `count` events in separate transactions, keys cycling over `keys`.
func commit(_ count: Int, to store: Store, role: DatabaseRole = .app, keys: Int = 5, topic: String = "notes", start: Int = 0, textSize: Int = 10) throws {
    for sequence in start..<(start + count) {
        _ = try store.database(role).write { db in
            try store.outbox.append(OutboxEvent(topic: topic, key: "k\(sequence % keys)", type: "Noted",
                                                payload: Note(sequence: sequence, text: String(repeating: "x", count: textSize)),
                                                eventTime: Date(millisecondsSince1970: 1_700_000_000_000 + Int64(sequence))), in: db)
        }
    }
}

/// Every record of every partition of a topic.
func records(in log: Log, topic: String) throws -> [LogRecord] {
    guard let topic = try log.topic(topic) else { return [] }
    var all: [LogRecord] = []
    for partition in topic.partitions {
        try partition.refresh()
        var next = partition.startOffset
        while next < partition.endOffset {
            let batch = try partition.read(from: next)
            guard let last = batch.last else { break }
            all += batch
            next = last.offset + 1
        }
    }
    return all
}

func sequence(of record: LogRecord) throws -> Int {
    try JSONDecoder().decode(Note.self, from: Data(record.value!)).sequence
}

@Suite struct RelayTests {
    let temporary: TemporaryHome
    let store: Store

    init() throws {
        temporary = try TemporaryHome(label: "relay")
        store = try temporary.openStore()
    }

    @Test func everyCommittedRowAppearsOnceWithItsHeadersAndTheOutboxEmpties() throws {
        try commit(50, to: store)
        try commit(7, to: store, role: .derived, topic: "derived-notes")
        let log = try Log.open(temporary.home.logURL)
        let relay = try OutboxRelay(store: store, log: log, configuration: .init(batchSize: 16, topicDefaults: TopicConfiguration(partitions: 3)))
        let summary = try relay.drain()
        #expect(summary.relayed == 57)
        let notes = try records(in: log, topic: "notes")
        #expect(try notes.map(sequence).sorted() == Array(0..<50))
        #expect(try records(in: log, topic: "derived-notes").map(sequence).sorted() == Array(0..<7))
        let first = try #require(notes.first { try sequence(of: $0) == 0 })
        #expect(first.header("outbox-source") == Array("app".utf8))
        #expect(first.header("type") == Array("Noted".utf8))
        #expect(first.header("outbox-id") == Array("1".utf8))
        #expect(first.header("outbox-database") == Array(try store.app.read(DatabaseIdentity.read).id.utf8))
        #expect(first.timestamp == 1_700_000_000_000)
        #expect(first.key == Array("k0".utf8))
        #expect(try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") } == 0)
        #expect(try relay.backlog().rows == 0)
    }

    @Test func rowsAlternatingTopicsTypesAndVersionsInOneCycleEachKeepTheirOwn() throws {
        // A cycle finds a row's topic, partition, type and version headers without hashing when
        // they equal the row before's: rows that change them every time, in runs and singly.
        let topics = ["a", "b", "b", "a", "c", "a", "a", "b"]
        _ = try store.app.write { db in
            for sequence in 0..<40 {
                try store.outbox.append(OutboxEvent(topic: topics[sequence % topics.count], key: "k\(sequence % 3)",
                                                    type: sequence % 3 == 0 ? "Noted" : "Edited", schemaVersion: 1 + sequence % 2,
                                                    payload: Note(sequence: sequence, text: "t"),
                                                    eventTime: Date(millisecondsSince1970: 1_700_000_000_000)), in: db)
            }
        }
        let log = try Log.open(temporary.home.logURL)
        let summary = try OutboxRelay(store: store, log: log, configuration: .init(batchSize: 100, topicDefaults: TopicConfiguration(partitions: 2))).drain()
        #expect(summary.cycles == 1 && summary.relayed == 40)
        for topic in Set(topics) {
            let found = try records(in: log, topic: topic)
            let expected = (0..<40).filter { topics[$0 % topics.count] == topic }
            #expect(try found.map(sequence).sorted() == expected)
            for record in found {
                let sequence = try sequence(of: record)
                #expect(record.header("type") == Array((sequence % 3 == 0 ? "Noted" : "Edited").utf8))
                #expect(record.header("schema-version") == Array(String(1 + sequence % 2).utf8))
                #expect(record.key == Array("k\(sequence % 3)".utf8))
            }
        }
    }

    @Test func rowsWithTheSameKeyKeepCommitOrderInOnePartition() throws {
        try commit(300, to: store, keys: 7)
        let log = try Log.open(temporary.home.logURL)
        try OutboxRelay(store: store, log: log, configuration: .init(batchSize: 40, topicDefaults: TopicConfiguration(partitions: 4))).drain()
        let topic = try #require(try log.topic("notes"))
        for key in 0..<7 {
            let keyBytes = Array("k\(key)".utf8)
            let partition = Murmur2.partition(forKey: keyBytes, partitions: 4)
            let inPartition = try records(in: log, topic: "notes").filter { $0.key == keyBytes }
            #expect(try inPartition.map(sequence) == Array(stride(from: key, to: 300, by: 7)))
            let found = try topic.partitions[partition].read(from: 0, maxBytes: 1 << 30).filter { $0.key == keyBytes }
            #expect(found.count == inPartition.count)
        }
    }

    @Test func anOversizedRowIsDeadLetteredAndLaterRowsStillFlow() throws {
        try commit(3, to: store, keys: 1)
        try commit(1, to: store, keys: 1, start: 3, textSize: 2_000)
        try commit(3, to: store, keys: 1, start: 4)
        let log = try Log.open(temporary.home.logURL)
        let relay = try OutboxRelay(store: store, log: log, configuration: .init(topicDefaults: TopicConfiguration(maxRecordBytes: 1_000)))
        let summary = try relay.drain()
        #expect(summary.deadLettered == 1)
        #expect(try records(in: log, topic: "notes").map(sequence) == [0, 1, 2, 4, 5, 6])
        let dead = try #require(try store.app.read { try Row.fetchOne($0, sql: "SELECT * FROM runnel_outbox_dead_letters") })
        #expect((dead["reason"] as String).contains("over the limit of 1000 bytes"))
        #expect(dead["id"] as Int64 == 4)
        #expect(try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") } == 0)
    }

    /// A run that appended a cycle's batches to some partitions and then died before deleting
    /// the rows: the next relay skips exactly the rows already in the log.
    @Test func aCycleInterruptedAfterAppendingIsNotAppendedTwice() throws {
        try commit(40, to: store, keys: 8)
        let defaults = TopicConfiguration(partitions: 4)
        do {
            let log = try Log.open(temporary.home.logURL)
            let relay = try OutboxRelay(store: store, log: log, configuration: .init(batchSize: 10, topicDefaults: defaults))
            _ = try relay.relayOnce()   // rows 1-10 relayed and deleted
            // Simulate the next cycle dying half-way: rows 11-20 of two partitions appended, none deleted.
            let rows = try store.app.read { try OutboxRow.fetchPending($0, limit: 10) }
            let identity = try store.app.read(DatabaseIdentity.read)
            let topic = try log.topic("notes", creatingWith: defaults)
            var groups: [Int: [LogRecord]] = [:]
            for row in rows {
                let key = Array(row.key!.utf8)
                let record = LogRecord(timestamp: row.eventTime, key: key, value: Array(row.payload.utf8), headers: [
                    RecordHeader("outbox-id", String(row.id)), RecordHeader("outbox-source", "app"),
                    RecordHeader("outbox-database", identity.id)])
                groups[topic.partition(for: key, sequence: 0), default: []].append(record)
            }
            for partition in groups.keys.sorted().prefix(2) { try topic.partitions[partition].append(groups[partition]!) }
            try log.flush()
        }
        let log = try Log.open(temporary.home.logURL)
        let summary = try OutboxRelay(store: store, log: log, configuration: .init(batchSize: 10, topicDefaults: defaults)).drain()
        #expect(summary.skippedAsAlreadyInLog > 0)
        let all = try records(in: log, topic: "notes")
        #expect(all.count == 40)
        #expect(try all.map(sequence).sorted() == Array(0..<40))
    }

    /// A delete that SQLite refuses after the append: the error names the database file and what
    /// was being done, nothing leaves the outbox, and the next run skips what is already in the log.
    @Test func aFailedDeleteNamesTheDatabaseAndTheNextRunAppendsNothingTwice() throws {
        try commit(20, to: store, keys: 3)
        try store.app.write { try $0.execute(sql: "CREATE TRIGGER refuse_delete BEFORE DELETE ON runnel_outbox BEGIN SELECT RAISE(ABORT, 'refused'); END") }
        do {
            let log = try Log.open(temporary.home.logURL)
            defer { try? log.close() }
            let error = try #require(throws: RunnelError.self) { try OutboxRelay(store: store, log: log).drain() }
            #expect(error.code == .database)
            #expect(error.message.contains(store.app.path))
            #expect(error.message.contains("deleting relayed rows from the outbox of app.sqlite"))
        }
        #expect(try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") } == 20)
        try store.app.write { try $0.execute(sql: "DROP TRIGGER refuse_delete") }
        let log = try Log.open(temporary.home.logURL)
        let summary = try OutboxRelay(store: store, log: log).drain()
        #expect(summary.skippedAsAlreadyInLog == 20)
        #expect(try records(in: log, topic: "notes").map(sequence).sorted() == Array(0..<20))
    }

    /// A run dies after appending a cycle and before moving its oversized row to the dead
    /// letters (here: SQLite refuses the delete). Later rows of the same partition are in the
    /// log, so the next run skips them; the oversized row must still reach the dead letters,
    /// not be deleted with them unrecorded.
    @Test func aRowThatCanNeverBeRelayedIsDeadLetteredEvenWhenLaterRowsOfItsPartitionAreInTheLog() throws {
        try commit(3, to: store, keys: 1)
        try commit(1, to: store, keys: 1, start: 3, textSize: 2_000)
        try commit(3, to: store, keys: 1, start: 4)
        let configuration = OutboxRelay.Configuration(topicDefaults: TopicConfiguration(maxRecordBytes: 1_000))
        try store.app.write { try $0.execute(sql: "CREATE TRIGGER refuse_delete BEFORE DELETE ON runnel_outbox BEGIN SELECT RAISE(ABORT, 'refused'); END") }
        do {
            let log = try Log.open(temporary.home.logURL)
            defer { try? log.close() }
            #expect(throws: RunnelError.self) { try OutboxRelay(store: store, log: log, configuration: configuration).drain() }
        }
        try store.app.write { try $0.execute(sql: "DROP TRIGGER refuse_delete") }
        let log = try Log.open(temporary.home.logURL)
        let summary = try OutboxRelay(store: store, log: log, configuration: configuration).drain()
        #expect(summary.skippedAsAlreadyInLog == 6)
        #expect(summary.deadLettered == 1)
        #expect(try records(in: log, topic: "notes").map(sequence) == [0, 1, 2, 4, 5, 6])
        #expect(try store.app.read { try Int64.fetchAll($0, sql: "SELECT id FROM runnel_outbox_dead_letters") } == [4])
        #expect(try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") } == 0)
    }

    /// A relay that defers its deletes reads past the rows it relayed, keeps them (and the move
    /// of a dead letter) until its delay has passed or it is told to delete, and does not count
    /// them as waiting.
    @Test func aRelayDeferringItsDeletesReadsPastRelayedRowsAndDeletesThemLater() throws {
        try commit(9, to: store, keys: 3)
        try commit(1, to: store, keys: 1, start: 9, textSize: 2_000)
        let log = try Log.open(temporary.home.logURL)
        let relay = try OutboxRelay(store: store, log: log, configuration: .init(topicDefaults: TopicConfiguration(partitions: 2, maxRecordBytes: 1_000)))
        func outbox() throws -> Int { try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") } ?? -1 }
        func deadLetters() throws -> Int { try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox_dead_letters") } ?? -1 }

        let first = try relay.relayOnce(deletingAfter: .seconds(3_600))
        #expect(first.relayed == 9 && first.deadLettered == 1)
        #expect(try outbox() == 10 && deadLetters() == 0)
        #expect(try relay.backlog().rows == 0)
        #expect(try OutboxRelay.backlog(of: store).rows == 10)

        try commit(5, to: store, keys: 3, start: 10)
        let second = try relay.relayOnce(deletingAfter: .seconds(3_600))
        #expect(second.relayed == 5 && second.skippedAsAlreadyInLog == 0)
        #expect(try outbox() == 15)
        #expect(try relay.backlog().rows == 0)
        #expect(try relay.relayOnce(deletingAfter: .seconds(3_600)).relayed == 0)

        try relay.deleteRelayed()
        #expect(try outbox() == 0 && deadLetters() == 1)
        #expect(try records(in: log, topic: "notes").map(sequence).sorted() == Array(0..<9) + Array(10..<15))

        // A delay that has passed deletes at the end of the cycle.
        try commit(3, to: store, keys: 3, start: 15)
        #expect(try relay.relayOnce(deletingAfter: .nanoseconds(1)).relayed == 3)
        #expect(try outbox() == 0)
    }

    /// A relay that stops (or dies) with relayed rows still in the outbox: the next one finds
    /// them in the log, skips them and deletes them, and relays the rest once.
    @Test func rowsADeferringRelayLeftInTheOutboxAreSkippedByTheNextOne() throws {
        try commit(30, to: store, keys: 4)
        let defaults = TopicConfiguration(partitions: 3)
        do {
            let log = try Log.open(temporary.home.logURL)
            let relay = try OutboxRelay(store: store, log: log, configuration: .init(batchSize: 12, topicDefaults: defaults))
            #expect(try relay.relayOnce(deletingAfter: .seconds(3_600)).relayed == 12)
            #expect(try relay.relayOnce(deletingAfter: .seconds(3_600)).relayed == 12)
            try log.close()
        }
        #expect(try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") } == 30)
        let log = try Log.open(temporary.home.logURL)
        let summary = try OutboxRelay(store: store, log: log, configuration: .init(topicDefaults: defaults)).drain()
        #expect(summary.skippedAsAlreadyInLog == 24 && summary.relayed == 6)
        #expect(try records(in: log, topic: "notes").map(sequence).sorted() == Array(0..<30))
        #expect(try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") } == 0)
    }

    @Test func keylessRowsGoRoundRobinByOutboxID() throws {
        for sequence in 0..<12 {
            _ = try store.app.write { db in
                try store.outbox.append(OutboxEvent(topic: "keyless", key: nil, type: "Noted", payload: Note(sequence: sequence, text: ""),
                                                    eventTime: Date()), in: db)
            }
        }
        let log = try Log.open(temporary.home.logURL)
        try OutboxRelay(store: store, log: log, configuration: .init(topicDefaults: TopicConfiguration(partitions: 3))).drain()
        let topic = try #require(try log.topic("keyless"))
        #expect(topic.partitions.map(\.endOffset) == [4, 4, 4])
    }
}

@Suite struct RelayLargeRowTests {
    @Test func largeRowsAreSplitIntoBoundedBatchesAndCyclesAndAllArrive() throws {
        let temporary = try TemporaryHome(label: "relay-large")
        let store = try temporary.openStore()
        // 90 rows of about 900 KB: more than one cycle's 64 MiB, more than one batch's 16 MiB.
        try commit(90, to: store, keys: 3, textSize: 900_000)
        let log = try Log.open(temporary.home.logURL)
        let relay = try OutboxRelay(store: store, log: log)
        let summary = try relay.drain()
        #expect(summary.relayed == 90)
        #expect(summary.cycles == 2)   // 64 MiB of rows, then the rest
        let all = try records(in: log, topic: "notes")
        #expect(try all.map(sequence).sorted() == Array(0..<90))
        for key in 0..<3 {
            #expect(try all.filter { $0.key == Array("k\(key)".utf8) }.map(sequence) == Array(stride(from: key, to: 90, by: 3)))
        }
    }
}
