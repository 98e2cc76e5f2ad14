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

    public init(row: Row) throws {
        id = row["id"]
        topic = row["topic"]
        key = row["key"]
        type = row["type"]
        schemaVersion = row["schema_version"]
        payload = row["payload"]
        headers = row["headers"]
        eventTime = row["event_time"]
        createdAt = row["created_at"]
    }

    /// Fetches pending rows in id order.
    /// - Parameters:
    ///   - db: A connection to either database.
    ///   - afterID: Only rows with a larger id.
    ///   - limit: At most this many rows.
    public static func fetchPending(_ db: Database, after afterID: Int64 = 0, limit: Int? = nil) throws -> [OutboxRow] {
        var sql = "SELECT * FROM runnel_outbox WHERE id > ? ORDER BY id"
        var arguments: StatementArguments = [afterID]
        if let limit {
            sql += " LIMIT ?"
            arguments += [limit]
        }
        return try OutboxRow.fetchAll(db, sql: sql, arguments: arguments)
    }
}
