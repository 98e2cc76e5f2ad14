import Foundation
import GRDB
@testable import Runnel
import RunnelTesting
import Testing

/// An event's own headers reach its log record as they were given, whatever their characters:
/// the relay reads the plain ones with a scan and falls back to a JSON decoder for the rest.
@Suite struct RelayHeaderTests {
    @Test func everyHeaderArrivesAsGivenPlainOrEscaped() throws {
        let temporary = try TemporaryHome(label: "relay-headers")
        let store = try temporary.openStore()
        let given: [[String: String]] = [
            ["saga-id": "trip:1", "command-id": "trip:1/0/do", "reply-to": "trip-replies", "attempt": "2"],
            ["quote": "say \"hi\"", "slash\\key": "a\\b", "line": "one\ntwo", "unicode": "café ☕ 𝄞", "empty": ""],
            [:],
        ]
        for (index, headers) in given.enumerated() {
            _ = try store.app.write { db in
                try store.outbox.append(OutboxEvent(topic: "notes", key: "k", type: "Noted", payload: Note(sequence: index, text: "x"),
                                                    headers: headers, eventTime: Date(millisecondsSince1970: 1_700_000_000_000)), in: db)
            }
        }
        let log = try Log.open(temporary.home.logURL)
        defer { try? log.close() }
        #expect(try OutboxRelay(store: store, log: log).drain().relayed == 3)
        let own = Set(["outbox-id", "outbox-source", "outbox-database", "type", "schema-version"])
        let arrived = try records(in: log, topic: "notes").map { record in
            Dictionary(uniqueKeysWithValues: record.headers.filter { !own.contains($0.key) }.map { ($0.key, String(decoding: $0.value ?? [], as: UTF8.self)) })
        }
        #expect(arrived == given)
    }

    @Test func theScanTakesOnlyFlatObjectsOfPlainStrings() {
        #expect(JSONText.flatStrings("{}")?.isEmpty == true)
        #expect(JSONText.flatStrings(#"{"a":"1","b":""}"#)?.map { "\($0.key)=\($0.value)" } == ["a=1", "b="])
        for other in [#"{"a":"x\"y"}"#, #"{"a":1}"#, #"{ "a":"1"}"#, #"{"a":"1"} "#, #"{"a":"1""#, #"["a"]"#, "", "{", #"{"a":{"b":"c"}}"#] {
            #expect(JSONText.flatStrings(other) == nil, "\(other)")
        }
    }
}
