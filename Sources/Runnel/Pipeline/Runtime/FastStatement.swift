#if canImport(GRDBSQLite)
import GRDBSQLite
#else
import SQLite3
#endif
import Foundation
import GRDB

/// Runs a prepared statement with values bound through SQLite's C API: the end-of-batch writes
/// (view rows, window state) run once per changed row, and building GRDB's
/// `StatementArguments` for each cost more than the write itself.
enum FastStatement {
    /// SQLite copies bound text and blobs before `bind` returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    static func execute(_ statement: Statement, _ db: Database, _ bind: (OpaquePointer) -> Void) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        bind(handle)
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard code == SQLITE_DONE || code == SQLITE_ROW else {
            throw RunnelError(.pipeline, "SQLite error \(code) running \(statement.sql): \(String(cString: sqlite3_errmsg(db.sqliteConnection)))",
                              hint: "Check the read view's columns against the pipeline's, or rebuild the pipeline")
        }
    }

    static func bind(_ handle: OpaquePointer, _ index: Int32, _ value: DatabaseValue) {
        switch value.storage {
        case .null: sqlite3_bind_null(handle, index)
        case .int64(let number): sqlite3_bind_int64(handle, index, number)
        case .double(let number): sqlite3_bind_double(handle, index, number)
        case .string(let text): sqlite3_bind_text(handle, index, text, -1, transient)
        case .blob(let data): bind(handle, index, data)
        }
    }

    static func bind(_ handle: OpaquePointer, _ index: Int32, _ data: Data) {
        data.withUnsafeBytes { raw in
            _ = sqlite3_bind_blob(handle, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), transient)
        }
    }

    static func bind(_ handle: OpaquePointer, _ index: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            _ = sqlite3_bind_blob(handle, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), transient)
        }
    }

    static func bind(_ handle: OpaquePointer, _ index: Int32, _ number: Int64) {
        sqlite3_bind_int64(handle, index, number)
    }

    static func bind(_ handle: OpaquePointer, _ index: Int32, _ text: String) {
        sqlite3_bind_text(handle, index, text, -1, transient)
    }
}
