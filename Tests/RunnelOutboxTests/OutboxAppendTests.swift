import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

struct Greeting: Codable, Sendable, Equatable {
    var text: String
    var at: Date
}

struct Failure: Error {}

func event(_ text: String = "hi", topic: String = "greetings", key: String? = "k1", headers: [String: String] = [:]) -> OutboxEvent<Greeting> {
    OutboxEvent(topic: topic, key: key, type: "Greeted", schemaVersion: 2,
                payload: Greeting(text: text, at: Date(millisecondsSince1970: 1_700_000_000_123)),
                headers: headers, eventTime: Date(millisecondsSince1970: 1_700_000_000_456))
}

@Suite struct OutboxAppendTests {
    let temporary: TemporaryHome
    let store: Store

    init() throws {
        temporary = try TemporaryHome()
        store = try temporary.openStore()
        try store.app.write { try $0.execute(sql: "CREATE TABLE greetings (text TEXT NOT NULL)") }
    }

    private func counts() throws -> (business: Int, outbox: Int) {
        try store.app.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM greetings")!, try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_outbox")!)
        }
    }

    @Test func aCommittedWriteStoresOneRowPerEventWithEveryField() throws {
        try store.app.write { db in
            try db.execute(sql: "INSERT INTO greetings VALUES ('hi')")
            try store.outbox.append(event(headers: ["trace-id": "abc"]), in: db)
            try store.outbox.append(event("again", key: nil), in: db)
        }
        let rows = try store.app.read { try OutboxRow.fetchPending($0) }
        #expect(rows.count == 2)
        let first = try #require(rows.first)
        #expect(first.topic == "greetings")
        #expect(first.key == "k1")
        #expect(first.type == "Greeted")
        #expect(first.schemaVersion == 2)
        #expect(first.eventTime == 1_700_000_000_456)
        #expect(first.headers == #"{"trace-id":"abc"}"#)
        #expect(first.payload == #"{"at":1700000000123,"text":"hi"}"#)
        let decoded = try Outbox.makeDecoder().decode(Greeting.self, from: Data(first.payload.utf8))
        #expect(decoded == Greeting(text: "hi", at: Date(millisecondsSince1970: 1_700_000_000_123)))
        #expect(rows[1].key == nil)
        #expect(rows[1].headers == nil)
    }

    @Test func aBusinessWriteThatThrowsAfterAppendingLeavesNoOutboxRow() throws {
        #expect(throws: Failure.self) {
            try store.app.write { db in
                try db.execute(sql: "INSERT INTO greetings VALUES ('lost')")
                try store.outbox.append(event(), in: db)
                throw Failure()
            }
        }
        #expect(try counts() == (0, 0))
    }

    @Test func aBusinessWriteThatFailsInSQLiteAfterAppendingLeavesNoOutboxRow() throws {
        #expect(throws: DatabaseError.self) {
            try store.app.write { db in
                try store.outbox.append(event(), in: db)
                try db.execute(sql: "INSERT INTO greetings VALUES (NULL)")  // NOT NULL constraint
            }
        }
        #expect(try counts() == (0, 0))
    }

    @Test func appendingOutsideAWriteTransactionIsRefused() throws {
        let outside = try #require(throws: RunnelError.self) {
            try store.app.writeWithoutTransaction { db in try store.outbox.append(event(), in: db) }
        }
        #expect(outside.code == .notInWriteTransaction)
        #expect(outside.description.contains("write { db in"))
        let reading = try #require(throws: RunnelError.self) {
            try store.app.read { db in try store.outbox.append(event(), in: db) }
        }
        #expect(reading.code == .notInWriteTransaction)
        #expect(try counts() == (0, 0))
    }

    @Test func idsAreNeverReusedAfterRelayedRowsAreDeleted() throws {
        let last = try store.app.write { db -> Int64 in
            try store.outbox.append(event(), in: db)
            return try store.outbox.append(event(), in: db)
        }
        try store.app.write { try $0.execute(sql: "DELETE FROM runnel_outbox") }
        let next = try store.app.write { db in try store.outbox.append(event(), in: db) }
        #expect(next > last)
    }

    @Test func theDerivedDatabaseHasAnOutboxOfItsOwn() throws {
        _ = try store.derived.write { db in try store.outbox.append(event(topic: "derived-facts"), in: db) }
        #expect(try store.derived.read { try OutboxRow.fetchPending($0).map(\.topic) } == ["derived-facts"])
        #expect(try counts().outbox == 0)
    }
}
