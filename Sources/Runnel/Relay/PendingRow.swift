#if canImport(GRDBSQLite)
import GRDBSQLite
#else
import SQLite3
#endif
import GRDB

/// An outbox row as the relay needs it: key and payload as the bytes that go into the record,
/// read straight from SQLite's column buffers (one copy each, no intermediate `String`).
struct PendingRow {
    var id: Int64
    var topic: String
    var key: [UInt8]?
    var type: String
    var schemaVersion: Int64
    var payload: [UInt8]
    var headers: String?
    var eventTime: Int64

    /// The first `limit` rows past id `after`, in id order.
    static func fetch(_ db: Database, after: Int64, limit: Int) throws -> [PendingRow] {
        let statement = try db.cachedStatement(sql: """
            SELECT id, topic, key, type, schema_version, payload, headers, event_time
            FROM runnel_outbox WHERE id > ? ORDER BY id LIMIT ?
            """)
        var rows: [PendingRow] = []
        rows.reserveCapacity(limit)
        // GRDB's cursor steps the statement; each row is read from it through the C API while
        // the cursor rests on it.
        let cursor = try Row.fetchCursor(statement, arguments: [after, limit])
        let handle = statement.sqliteStatement
        // Most rows repeat the row before's topic and type: those share its strings rather
        // than each making its own (a type name over 15 bytes is a heap allocation, freed
        // again when the cycle ends).
        var topic = "", type = ""
        while try cursor.next() != nil {
            rows.append(PendingRow(
                id: sqlite3_column_int64(handle, 0),
                topic: text(handle, 1, sameAs: &topic),
                key: bytes(handle, 2),
                type: text(handle, 3, sameAs: &type),
                schemaVersion: sqlite3_column_int64(handle, 4),
                payload: bytes(handle, 5) ?? [],
                headers: text(handle, 6),
                eventTime: sqlite3_column_int64(handle, 7)))
        }
        return rows
    }

    private static func bytes(_ handle: OpaquePointer, _ column: Int32) -> [UInt8]? {
        guard sqlite3_column_type(handle, column) != SQLITE_NULL else { return nil }
        // sqlite3_column_blob returns TEXT values' bytes as they are stored (UTF-8 here).
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let start = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: start, count: count))
    }

    /// A NOT NULL text column's value: `last` when the column holds the same bytes, else the
    /// column's text, which becomes `last`.
    private static func text(_ handle: OpaquePointer, _ column: Int32, sameAs last: inout String) -> String {
        if let start = sqlite3_column_text(handle, column) {
            let count = Int(sqlite3_column_bytes(handle, column))
            var candidate = last
            if candidate.withUTF8({ RawBytes.equal(UnsafeRawBufferPointer($0), UnsafeRawBufferPointer(start: start, count: count)) }) {
                return last
            }
        }
        last = text(handle, column) ?? ""
        return last
    }

    private static func text(_ handle: OpaquePointer, _ column: Int32) -> String? {
        guard sqlite3_column_type(handle, column) != SQLITE_NULL, let start = sqlite3_column_text(handle, column) else { return nil }
        return String(cString: start)
    }
}
