import Foundation
import GRDB

/// An event as stored in the outbox, waiting for the relay.
package struct OutboxRow: Sendable, Hashable, FetchableRecord {
    /// The outbox id: grows in commit order, never reused.
    package var id: Int64
    package var topic: String
    package var key: String?
    package var type: String
    package var schemaVersion: Int
    /// The payload's JSON text.
    package var payload: String
    /// The headers' JSON object text, or `nil` when there are none.
    package var headers: String?
    /// Event time, milliseconds since 1970.
    package var eventTime: Int64
    /// When the row was appended, milliseconds since 1970.
    package var createdAt: Int64

    /// The columns, in the order ``init(row:)`` reads them by position (by-name lookups cost
    /// the relay a hash per column per row).
    static let columns = "id, topic, key, type, schema_version, payload, headers, event_time, created_at"

    /// Decodes a row selected with ``columns``, in that order.
    package init(row: Row) throws {
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
    package static func fetchPending(_ db: Database, after afterID: Int64 = 0, limit: Int? = nil) throws -> [OutboxRow] {
        var sql = "SELECT \(columns) FROM runnel_outbox WHERE id > ? ORDER BY id"
        var arguments: StatementArguments = [afterID]
        if let limit {
            sql += " LIMIT ?"
            arguments += [limit]
        }
        return try OutboxRow.fetchAll(db, sql: sql, arguments: arguments)
    }
}
