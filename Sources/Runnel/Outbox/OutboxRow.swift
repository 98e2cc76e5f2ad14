import Foundation
import GRDB

/// An event as stored in the outbox, waiting for the relay.
public struct OutboxRow: Sendable, Hashable, FetchableRecord {
    /// The outbox id: grows in commit order, never reused.
    public var id: Int64
    public var topic: String
    public var key: String?
    public var type: String
    public var schemaVersion: Int
    /// The payload's JSON text.
    public var payload: String
    /// The headers' JSON object text, or `nil` when there are none.
    public var headers: String?
    /// Event time, milliseconds since 1970.
    public var eventTime: Int64
    /// When the row was appended, milliseconds since 1970.
    public var createdAt: Int64

    /// The columns, in the order ``init(row:)`` reads them by position (by-name lookups cost
    /// the relay a hash per column per row).
    static let columns = "id, topic, key, type, schema_version, payload, headers, event_time, created_at"

    /// Decodes a row selected with ``columns``, in that order.
    public init(row: Row) throws {
        id = row[0]
        topic = row[1]
        key = row[2]
        type = row[3]
        schemaVersion = row[4]
        payload = row[5]
        headers = row[6]
        eventTime = row[7]
        createdAt = row[8]
    }

    /// Fetches pending rows in id order.
    /// - Parameters:
    ///   - db: A connection to either database.
    ///   - afterID: Only rows with a larger id.
    ///   - limit: At most this many rows.
    public static func fetchPending(_ db: Database, after afterID: Int64 = 0, limit: Int? = nil) throws -> [OutboxRow] {
        var sql = "SELECT \(columns) FROM runnel_outbox WHERE id > ? ORDER BY id"
        var arguments: StatementArguments = [afterID]
        if let limit {
            sql += " LIMIT ?"
            arguments += [limit]
        }
        return try OutboxRow.fetchAll(db, sql: sql, arguments: arguments)
    }
}
