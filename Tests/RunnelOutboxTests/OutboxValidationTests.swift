import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

@Suite struct OutboxValidationTests {
    let temporary: TemporaryHome
    let store: Store

    init() throws {
        temporary = try TemporaryHome()
        store = try temporary.openStore(outbox: Outbox(limits: OutboxLimits(maximumPayloadBytes: 64, maximumKeyBytes: 16)))
    }

    private func append(_ event: OutboxEvent<Greeting>) throws {
        try store.app.write { db in _ = try store.outbox.append(event, in: db) }
    }

    private func outboxCount() throws -> Int {
        try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox")! }
    }

    @Test(arguments: [
        ("", "empty"),
        ("member/activity", "path separator"),
        ("..", "reserved"),
        (".", "reserved"),
        ("member activity", "space"),
        ("naïve", "'ï'"),
        ("tab\there", "control or space"),
        (String(repeating: "t", count: 250), "over the limit of 249"),
    ])
    func badTopicNamesAreRefusedSayingWhy(_ name: String, _ reason: String) throws {
        let error = try #require(throws: RunnelError.self) { try append(event(topic: name)) }
        #expect(error.code == .invalidTopic)
        #expect(error.description.contains(reason))
        #expect(error.hint != nil)
        #expect(try outboxCount() == 0)
    }

    @Test(arguments: ["member-activity", "a.b_c-D9", String(repeating: "t", count: 249)])
    func goodTopicNamesAreAccepted(_ name: String) throws {
        try append(event(topic: name))
        #expect(try outboxCount() == 1)
    }

    @Test func aPayloadAtTheLimitIsAcceptedAndOneByteMoreIsRefusedWithWhatToDo() throws {
        // {"at":1700000000123,"text":"…"} is 30 bytes of JSON around the text.
        try append(event(String(repeating: "x", count: 34)))
        let error = try #require(throws: RunnelError.self) { try append(event(String(repeating: "x", count: 35))) }
        #expect(error.code == .invalidEvent)
        #expect(error.description.contains("65 bytes"))
        #expect(error.description.contains("limit of 64 bytes"))
        #expect(error.description.contains("greetings"))
        #expect(error.description.contains("maximumPayloadBytes"))
        #expect(try outboxCount() == 1)
    }

    @Test func anOversizedKeyIsRefused() throws {
        let error = try #require(throws: RunnelError.self) { try append(event(key: String(repeating: "k", count: 17))) }
        #expect(error.code == .invalidEvent)
        #expect(error.description.contains("key"))
        #expect(try outboxCount() == 0)
    }

    @Test func aRefusedEventRollsBackTheWholeTransaction() throws {
        try store.app.write { try $0.execute(sql: "CREATE TABLE greetings (text TEXT)") }
        #expect(throws: RunnelError.self) {
            try store.app.write { db in
                try db.execute(sql: "INSERT INTO greetings VALUES ('hi')")
                try store.outbox.append(event(topic: "bad/topic"), in: db)
            }
        }
        #expect(try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM greetings") } == 0)
    }

    @Test func anEmptyTypeAndAZeroSchemaVersionAreRefused() throws {
        var untyped = event()
        untyped.type = ""
        #expect(throws: RunnelError.self) { try append(untyped) }
        var unversioned = event()
        unversioned.schemaVersion = 0
        let error = try #require(throws: RunnelError.self) { try append(unversioned) }
        #expect(error.description.contains("start at 1"))
        #expect(try outboxCount() == 0)
    }
}
