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

extension KVBenchSQLite {
    /// The page size of a bulk-loaded file. 64 KiB pages hold about 500 pairs each, so the table
    /// has a sixteenth of the pages it has with SQLite's default 4 KiB: fewer page splits and
    /// fewer, larger writes while loading.
    static let bulkPageSize = 65_536

    /// How long the two parts of a bulk load took.
    struct BulkLoad: Sendable {
        /// SQLite's part: creating the file, filling the table in one transaction, committing,
        /// closing.
        var load: Duration
        /// Making the file durable and visible: its one fsync, its rename into place, the fsync
        /// of the folder.
        var publish: Duration
        /// Both.
        var total: Duration { load + publish }
        /// The page cache the load ran with, in KiB.
        var cacheKiB: Int
    }

    /// Writes every pair into a new database file and publishes it at `url` whole, as a user who
    /// rebuilds a dataset and publishes it at once would: the fastest way to get the table into
    /// a durable SQLite file with the crash behaviour of a KV store build, where a version appears
    /// complete or not at all.
    ///
    /// The file is made beside `url` (its name plus `.loading`), through SQLite's C API alone:
    /// `page_size` set before the table exists (``bulkPageSize``), a `cache_size` of twice the
    /// input so that every page stays in memory until the commit and is written once,
    /// `journal_mode = OFF` and `synchronous = OFF` (a crash while loading leaves a half-made
    /// file that is never at `url`, so there is nothing to roll back and nothing to sync
    /// early). Then every pair is inserted in key order with one prepared statement in one
    /// transaction (``insertAll(_:with:connection:)``), the connection closed, the file fsynced
    /// once, renamed over `url`, and the folder fsynced, so the rename survives a crash too.
    /// - Returns: How long SQLite's part and the publishing took; the caller times the call.
    static func bulkLoad(_ pairs: KVBenchPairs, to url: URL, pageSize: Int = bulkPageSize) throws -> BulkLoad {
        let loading = URL(fileURLWithPath: url.path + ".loading")
        let cacheKiB = 2 * (pairs.totalKeyBytes + pairs.totalValueBytes) / 1024
        let clock = ContinuousClock()
        let start = clock.now
        guard unlink(loading.path) == 0 || errno == ENOENT else { throw posixFailure("delete", loading) }
        var connection: OpaquePointer?
        let opened = sqlite3_open_v2(loading.path, &connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        do {
            guard opened == SQLITE_OK else { throw failure(opened, "creating \(loading.lastPathComponent)", connection) }
            for sql in ["PRAGMA page_size = \(pageSize)", "PRAGMA cache_size = -\(cacheKiB)", "PRAGMA journal_mode = OFF",
                        "PRAGMA synchronous = OFF", createTable, "BEGIN"] {
                try execute(sql, on: connection)
            }
            var statement: OpaquePointer?
            let prepared = sqlite3_prepare_v2(connection, insertSQL, -1, &statement, nil)
            guard prepared == SQLITE_OK else { throw failure(prepared, "preparing the insert", connection) }
            defer { sqlite3_finalize(statement) }
            try insertAll(pairs, with: statement, connection: connection)
            try execute("COMMIT", on: connection)
        } catch {
            sqlite3_close_v2(connection)
            throw error
        }
        let closed = sqlite3_close(connection)
        guard closed == SQLITE_OK else { throw failure(closed, "closing \(loading.lastPathComponent)", connection) }
        let loaded = clock.now

        try syncFile(loading)
        guard rename(loading.path, url.path) == 0 else { throw posixFailure("rename", loading) }
        try syncFile(url.deletingLastPathComponent())
        return BulkLoad(load: loaded - start, publish: clock.now - loaded, cacheKiB: cacheKiB)
    }

    /// Runs one statement that returns no rows we need (PRAGMAs, DDL, BEGIN/COMMIT).
    static func execute(_ sql: String, on connection: OpaquePointer?) throws {
        let code = sqlite3_exec(connection, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw failure(code, "running \(sql)", connection) }
    }

    /// Fsyncs a file or a folder, opened to read: SQLite synced nothing itself.
    private static func syncFile(_ url: URL) throws {
        try PlainFile.openForReading(url).sync()
    }

    /// A failed system call, with `errno`'s text.
    private static func posixFailure(_ call: String, _ url: URL) -> BenchmarkError {
        BenchmarkError("kv: \(call) \(url.path): \(String(cString: strerror(errno)))")
    }
}
