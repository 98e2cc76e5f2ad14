import Foundation
import GRDB

/// Appends events to the outbox of the database the caller is writing to, inside the caller's
/// transaction, so that a business change and its events commit or roll back together.
///
/// The outbox is the table `runnel_outbox`, present in both `app.sqlite` and `derived.sqlite`.
/// Its ids come from `AUTOINCREMENT` and SQLite runs one writer at a time, so ids grow in commit
/// order and are never reused after the relay deletes relayed rows.
///
/// ```swift
/// try store.app.write { db in
///     try db.execute(sql: "INSERT INTO connections …")
///     try store.outbox.append(OutboxEvent(topic: "connections", key: "\(a)", type: "ConnectionMade",
///                                         payload: made, eventTime: now), in: db)
/// }   // both rows, or neither
/// ```
public struct Outbox: Sendable {
    /// The limits each appended event must respect.
    public var limits: OutboxLimits

    /// Creates an appender.
    /// - Parameter limits: The limits each event must respect.
    public init(limits: OutboxLimits = OutboxLimits()) {
        self.limits = limits
    }

    /// Appends an event inside the current write transaction.
    ///
    /// - Parameters:
    ///   - event: The event to append.
    ///   - db: A connection inside a write transaction (`DatabasePool.write`, `inTransaction`).
    /// - Returns: The outbox id given to the event.
    /// - Throws: ``RunnelError`` with code `.notInWriteTransaction` outside a write transaction,
    ///   `.invalidTopic` for a bad topic name, `.invalidEvent` when a limit is broken; or the
    ///   payload's encoding error. Nothing is written when it throws.
    @discardableResult
    public func append<Payload>(_ event: OutboxEvent<Payload>, in db: Database) throws -> Int64 {
        guard !db.configuration.readonly else {
            throw RunnelError(.notInWriteTransaction, "cannot append \(event.type) to the outbox through a read-only connection",
                              hint: "Append inside `write { db in … }` on the store's database pool")
        }
        guard db.isInsideTransaction else {
            throw RunnelError(.notInWriteTransaction, "cannot append \(event.type) to the outbox outside a transaction: the event could commit without its business change",
                              hint: "Append inside `write { db in … }` (or `inTransaction`), in the same transaction as the business rows")
        }
        try TopicName.validate(event.topic)
        try validate(event)
        let payload: String
        do {
            payload = try PayloadEncoder.encode(event.payload)
        } catch {
            throw RunnelError(.invalidEvent, "cannot encode the payload of \(event.type) on topic \(event.topic) as JSON: \(error)")
        }
        guard payload.utf8.count <= limits.maximumPayloadBytes else {
            throw RunnelError(
                .invalidEvent,
                "the payload of \(event.type) on topic \(event.topic) is \(payload.utf8.count) bytes of JSON, over the outbox limit of \(limits.maximumPayloadBytes) bytes",
                hint: "Keep large content in a business table and put its id in the event, or raise OutboxLimits.maximumPayloadBytes")
        }
        // Written by hand: a JSONEncoder pass costs more than the rest of an append of a
        // small event (sagas put four headers on every command).
        let headers: String? = event.headers.isEmpty ? nil
            : JSONText.object(event.headers.sorted { $0.key < $1.key }.map { ($0.key, JSONText.quoted($0.value)) })
        let statement = try db.cachedStatement(sql: """
            INSERT INTO runnel_outbox (topic, key, type, schema_version, payload, headers, event_time, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        do {
            try statement.execute(arguments: [
                event.topic, event.key, event.type, event.schemaVersion,
                payload, headers,
                event.eventTime.millisecondsSince1970, Date().millisecondsSince1970,
            ])
        } catch let error as DatabaseError where error.resultCode == .SQLITE_READONLY {
            throw RunnelError(.notInWriteTransaction, "cannot append \(event.type) to the outbox: the connection is read-only",
                              hint: "Append inside `write { db in … }` on the store's database pool")
        }
        return db.lastInsertedRowID
    }

    private func validate<Payload>(_ event: OutboxEvent<Payload>) throws {
        let type = event.type.utf8.count
        guard type > 0, type <= limits.maximumTypeBytes else {
            throw RunnelError(.invalidEvent, "the event type \"\(event.type.prefix(40))\" on topic \(event.topic) is \(type) bytes; it must be 1 to \(limits.maximumTypeBytes)",
                              hint: "Name the event for what happened, for example \"HeadlineUpdated\"")
        }
        guard event.schemaVersion >= 1 else {
            throw RunnelError(.invalidEvent, "\(event.type) on topic \(event.topic) has schema version \(event.schemaVersion)",
                              hint: "Schema versions start at 1")
        }
        if let key = event.key, key.utf8.count > limits.maximumKeyBytes {
            throw RunnelError(.invalidEvent, "the key of \(event.type) on topic \(event.topic) is \(key.utf8.count) bytes, over the limit of \(limits.maximumKeyBytes)",
                              hint: "Use the aggregate's id as the key, not its content")
        }
        let headerBytes = event.headers.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        guard headerBytes <= limits.maximumHeaderBytes else {
            throw RunnelError(.invalidEvent, "the headers of \(event.type) on topic \(event.topic) hold \(headerBytes) bytes, over the limit of \(limits.maximumHeaderBytes)",
                              hint: "Move the content into the payload")
        }
    }

    /// The JSON encoder of payloads: sorted keys so equal payloads give equal bytes, dates as
    /// whole milliseconds since 1970 (the unit of Kafka record timestamps).
    ///
    /// Foundation's `.millisecondsSince1970` writes the fraction of a `Date()` too
    /// (`1796169392124.474`), which an event type reading its time as an `Int64` of milliseconds
    /// cannot decode. Dates are written as ``Foundation/Date/millisecondsSince1970`` instead, the
    /// same whole number as the row's `event_time` column.
    ///
    /// Appends write the same bytes without building this encoder's tree of values (see
    /// ``PayloadEncoder``); this encoder remains the reference, and what such appends fall back
    /// on for types they leave to Foundation.
    package static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .wholeMilliseconds
        return encoder
    }

    /// The decoder matching the outbox's encoding (dates as whole milliseconds since 1970); it
    /// also reads fractional milliseconds.
    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }
}
