import Foundation

/// An event to announce, appended to the outbox in the same transaction as the business change
/// it describes.
///
/// ```swift
/// OutboxEvent(topic: "member-profile", key: "42",
///             payload: HeadlineUpdated(memberId: 42, headline: "Staff Engineer"), eventTime: now)
/// ```
///
/// The event's type (its `type` header) is the payload's Swift type name unless given, the
/// same default a pipeline's ``Source`` reads.
public struct OutboxEvent<Payload: Encodable>: Encodable where Payload: Sendable {
    /// The topic the relay publishes the event to.
    public var topic: String
    /// The ordering key (usually the aggregate id): events with the same key keep their commit
    /// order all the way through the log. `nil` for events with no ordering needs.
    public var key: String?
    /// The event type, for example `"HeadlineUpdated"`.
    public var type: String
    /// The version of the payload's schema, starting at 1; bump it when the payload changes shape.
    public var schemaVersion: Int
    /// The payload, stored as JSON.
    public var payload: Payload
    /// Free-form string headers, carried into the log record's headers.
    public var headers: [String: String]
    /// When the event happened in the business world (event time, not processing time).
    public var eventTime: Date

    /// Creates an event.
    /// - Parameters:
    ///   - topic: The topic: 1 to 249 characters from `a-z A-Z 0-9 . _ -`, not `.` or `..`.
    ///   - key: The ordering key.
    ///   - type: The event type; by default the payload type's name (`HeadlineUpdated`).
    ///   - schemaVersion: The payload's schema version (1 or more).
    ///   - payload: The payload, encoded as JSON.
    ///   - headers: Extra string headers.
    ///   - eventTime: When the event happened.
    public init(
        topic: String,
        key: String?,
        type: String = String(describing: Payload.self),
        schemaVersion: Int = 1,
        payload: Payload,
        headers: [String: String] = [:],
        eventTime: Date
    ) {
        self.topic = topic
        self.key = key
        self.type = type
        self.schemaVersion = schemaVersion
        self.payload = payload
        self.headers = headers
        self.eventTime = eventTime
    }
}

extension OutboxEvent: Sendable {}
