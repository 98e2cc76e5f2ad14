#if canImport(GRDBSQLite)
import GRDBSQLite
#else
import SQLite3
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import GRDB

/// The SQLite side of the `kv-*` scenarios: the pairs in a `WITHOUT ROWID` table keyed by the
/// key, written and read through SQLite's C API, as the library's `FastStatement` does. Going
/// through GRDB's `StatementArguments` and `Row`s would add Swift work per row that is not
/// SQLite's, and the point is to compare with what SQLite itself can do.
///
/// Two ways of writing the table: ``bulkLoad(_:to:)``, what a user who rebuilds the whole
/// dataset and publishes it at once would do (no journal, one fsync, a rename), and
/// ``insert(_:into:)`` on a GRDB connection committing as Runnel's own databases do (WAL,
/// `synchronous = FULL`). Lookups run on a ``Reader``: a bare connection opened in one of the
/// ``ReadSetup``s, since GRDB cannot open a URI filename (`immutable=1`).
///
/// Keys and values are bound as blobs without copies (`SQLITE_STATIC`); a lookup copies the
/// value blob into a `[UInt8]`, as ``KVStore/get(_:)`` does.
enum KVBenchSQLite {
    static let createTable = "CREATE TABLE kv (key BLOB PRIMARY KEY, value BLOB) WITHOUT ROWID"
    static let insertSQL = "INSERT INTO kv (key, value) VALUES (?, ?)"
    static let selectSQL = "SELECT value FROM kv WHERE key = ?"

    /// Opens (creating) a database committing as Runnel's databases do: WAL, `synchronous = FULL`.
    /// - Parameter cacheKiB: The connection's page cache; nil keeps SQLite's default (2 MiB).
    static func open(_ url: URL, cacheKiB: Int? = nil) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
            if let cacheKiB { try db.execute(sql: "PRAGMA cache_size = -\(cacheKiB)") }
        }
        return try DatabaseQueue(path: url.path, configuration: configuration)
    }

    /// Opens a database to read only, through GRDB: to check what a bulk load left, without
    /// changing the file (no journal mode set, nothing written).
    static func openReadOnly(_ url: URL) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: url.path, configuration: configuration)
    }

    /// Inserts every pair, in key order, with one prepared statement in one transaction; the
    /// commit fsyncs the WAL (and the automatic checkpoint that follows it, the database file).
    /// - Returns: How long the commit took (the rest went into the inserts).
    @discardableResult
    static func insert(_ pairs: KVBenchPairs, into queue: DatabaseQueue) throws -> Duration {
        try queue.inDatabase { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            do {
                let statement = try db.makeStatement(sql: insertSQL)
                try withExtendedLifetime(statement) {
                    try insertAll(pairs, with: statement.sqliteStatement, connection: db.sqliteConnection)
                }
            } catch {
                try? db.execute(sql: "ROLLBACK")
                throw error
            }
            let start = ContinuousClock.now
            try db.execute(sql: "COMMIT")
            return ContinuousClock.now - start
        }
    }

    /// Moves everything from the WAL into the database file and empties the WAL, so that the
    /// file holds the whole table and readers find nothing in the WAL to consult.
    static func checkpoint(_ queue: DatabaseQueue) throws {
        try queue.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
    }

    /// Runs `body` with the connection's cached lookup statement.
    /// - Parameter oneReadTransaction: Whether to run all of `body`'s lookups in one read
    ///   transaction, rather than each in its own (autocommit), which takes and releases
    ///   SQLite's file locks every time.
    static func withLookup<Result>(_ queue: DatabaseQueue, oneReadTransaction: Bool = false, _ body: (Lookup) throws -> Result) throws -> Result {
        try queue.inDatabase { db in
            let statement = try db.cachedStatement(sql: selectSQL)
            if oneReadTransaction { try db.execute(sql: "BEGIN DEFERRED") }
            do {
                let result = try withExtendedLifetime(statement) {
                    try body(Lookup(handle: statement.sqliteStatement, connection: db.sqliteConnection))
                }
                if oneReadTransaction { try db.execute(sql: "COMMIT") }
                return result
            } catch {
                if oneReadTransaction { try? db.execute(sql: "ROLLBACK") }
                throw error
            }
        }
    }

    /// The prepared `SELECT value FROM kv WHERE key = ?`: a point lookup per call, each in its
    /// own implicit read transaction (autocommit) unless the caller began one around them.
    struct Lookup {
        let handle: OpaquePointer
        let connection: OpaquePointer?

        /// Pages the connection has looked for in its page cache and not found (read from the
        /// file, through the OS page cache), since it opened: none after a warm-up when the
        /// cache holds the table.
        var cacheMisses: Int {
            var current: Int32 = 0
            var highest: Int32 = 0
            sqlite3_db_status(connection, SQLITE_DBSTATUS_CACHE_MISS, &current, &highest, 0)
            return Int(current)
        }

        /// The value of `key`, copied out, or nil when the table does not have it.
        /// Not inlined, so the copy happens as it does behind ``KVStore/get(_:)``.
        @inline(never)
        func value(forKey key: [UInt8]) throws -> [UInt8]? {
            try withValue(forKey: key) { $0.map { [UInt8]($0) } }
        }

        /// Calls `body` with the value of `key` where SQLite holds it (its page cache or its
        /// memory map), or with nil when the table does not have it: the lookup without the
        /// copy, SQLite's side of ``KVSnapshot/withValue(forKey:_:)``. The bytes are valid only
        /// inside `body`. Not inlined, as ``value(forKey:)`` is not.
        @inline(never)
        func withValue<Result>(forKey key: [UInt8], _ body: (UnsafeRawBufferPointer?) throws -> Result) throws -> Result {
            defer { sqlite3_reset(handle) }
            let code = key.withUnsafeBytes { key in
                sqlite3_bind_blob(handle, 1, key.baseAddress, Int32(key.count), nil)
                return sqlite3_step(handle)
            }
            switch code {
            case SQLITE_ROW:
                let blob = sqlite3_column_blob(handle, 0)
                return try body(UnsafeRawBufferPointer(start: blob, count: Int(sqlite3_column_bytes(handle, 0))))
            case SQLITE_DONE:
                return try body(nil)
            default:
                throw BenchmarkError("kv: SQLite error \(code) looking a key up: \(String(cString: sqlite3_errstr(code)))")
            }
        }
    }

    /// The size of a database file (not its WAL), in bytes.
    static func fileSize(_ url: URL) throws -> Int {
        try PlainFile.size(of: url)
    }

    /// Steps `statement` (the prepared ``insertSQL``) once for every pair, in key order, binding
    /// both blobs without a copy: the insert loop both ways of writing share.
    static func insertAll(_ pairs: KVBenchPairs, with statement: OpaquePointer?, connection: OpaquePointer?) throws {
        try pairs.forEachPair { key, value in
            sqlite3_bind_blob(statement, 1, key.baseAddress, Int32(key.count), nil)
            sqlite3_bind_blob(statement, 2, value.baseAddress, Int32(value.count), nil)
            let code = sqlite3_step(statement)
            sqlite3_reset(statement)
            guard code == SQLITE_DONE else { throw failure(code, "inserting a pair", connection) }
        }
    }

    static func failure(_ code: Int32, _ doing: String, _ connection: OpaquePointer?) -> BenchmarkError {
        BenchmarkError("kv: SQLite error \(code) \(doing): \(String(cString: sqlite3_errmsg(connection)))")
    }
}
