import Foundation

/// A record a handler or saga coordinator read from the log, copied out of the segment so it
/// outlives the read: its place, its key, its `type` header, the saga headers and its value.
package struct ConsumedRecord: Sendable {
    package var topic: String
    package var partition: Int
    package var offset: Int64
    /// The record's timestamp: the event time, in milliseconds since 1970.
    package var timestamp: Int64
    package var key: String?
    /// The `type` header, or `""` without one.
    package var type: String
    /// The `schema-version` header, or 1 without one.
    package var schemaVersion: Int
    /// The saga headers (`saga-id`, `command-id`, `reply-to`, …) the record carries.
    package var headers: [String: String]
    /// The value (JSON), or nil for a tombstone.
    package var value: Data?

    /// Where the record is, for messages: `topic/partition@offset`.
    package var position: String { "\(topic)/\(partition)@\(offset)" }

    init(_ view: LogRecordView, topic: String, partition: Int) {
        self.topic = topic
        self.partition = partition
        offset = view.offset
        timestamp = view.timestamp
        key = view.key.map { String(decoding: $0, as: UTF8.self) }
        value = view.value.map { Data($0) }
        var type = ""
        var schemaVersion = 1
        var headers: [String: String] = [:]
        view.forEachHeader { name, value in
            guard let value else { return }
            let name = String(decoding: name, as: UTF8.self)
            if name == "type" {
                type = String(decoding: value, as: UTF8.self)
            } else if name == "schema-version" {
                schemaVersion = Int(String(decoding: value, as: UTF8.self)) ?? 1
            } else if SagaHeader.all.contains(name) {
                headers[name] = String(decoding: value, as: UTF8.self)
            }
        }
        self.type = type
        self.schemaVersion = schemaVersion
        self.headers = headers
    }
}

/// The headers that carry a saga's conversation: a coordinator puts them on each command, and
/// a handler's ``HandlerContext/reply(_:type:schemaVersion:)`` copies them onto the reply.
public enum SagaHeader {
    /// The saga instance a command belongs to (`connection-invitation:42`); replies are keyed by it.
    public static let sagaID = "saga-id"
    /// The command's id: the same on every retry, so a handler can tell a retry from a new command.
    public static let commandID = "command-id"
    /// The topic to send replies to.
    public static let replyTo = "reply-to"
    /// The attempt (1, 2, …) that sent the command.
    public static let attempt = "attempt"

    static let all: Set<String> = [sagaID, commandID, replyTo, attempt]
}
