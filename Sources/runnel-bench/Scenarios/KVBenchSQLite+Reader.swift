#if canImport(GRDBSQLite)
import GRDBSQLite
#else
import SQLite3
#endif
import Foundation

extension KVBenchSQLite {
    /// How a lookup connection is opened and run: one of the SQLite set-ups `kv-lookup`
    /// compares, so that its baseline is the fastest of them rather than one guess.
    struct ReadSetup: Sendable {
        /// What a reader of the report is told, for example `immutable=1, mmap, one read transaction`.
        var name: String
        /// The `snake_case` middle of its figure's name.
        var key: String
        /// The database file.
        var url: URL
        /// Opens the file as `file:…?immutable=1`: read-only, with no file locks and no check
        /// for changes by other connections, ever.
        var immutable = false
        /// Opens with `SQLITE_OPEN_NOMUTEX`: no mutex around every call, for a connection used
        /// by one thread. Without it the connection is serialized, as GRDB opens them.
        var noMutex = false
        /// Statements run after opening (`PRAGMA cache_size`, `mmap_size`, `locking_mode`).
        var pragmas: [String] = []
        /// Whether a pass's lookups all run in one read transaction (`BEGIN` … `COMMIT`), so
        /// that SQLite locks the file and checks that its cache is still valid once, not once per
        /// lookup as in autocommit.
        var oneReadTransaction = false
    }

    /// A bare connection opened in a ``ReadSetup``, with the prepared ``selectSQL``.
    final class Reader {
        let setup: ReadSetup
        private let connection: OpaquePointer?
        private let statement: OpaquePointer?

        /// Opens the setup's file, runs its PRAGMAs and prepares the lookup.
        init(_ setup: ReadSetup) throws {
            self.setup = setup
            var flags = SQLITE_OPEN_URI | (setup.immutable ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE)
            if setup.noMutex { flags |= SQLITE_OPEN_NOMUTEX }
            let uri = setup.url.absoluteString + (setup.immutable ? "?immutable=1" : "")
            var connection: OpaquePointer?
            var statement: OpaquePointer?
            do {
                let opened = sqlite3_open_v2(uri, &connection, flags, nil)
                guard opened == SQLITE_OK else { throw failure(opened, "opening \(uri)", connection) }
                for pragma in setup.pragmas { try execute(pragma, on: connection) }
                let prepared = sqlite3_prepare_v2(connection, selectSQL, -1, &statement, nil)
                guard prepared == SQLITE_OK else { throw failure(prepared, "preparing the lookup", connection) }
            } catch {
                sqlite3_finalize(statement)
                sqlite3_close_v2(connection)
                throw error
            }
            self.connection = connection
            self.statement = statement
        }

        deinit {
            sqlite3_finalize(statement)
            sqlite3_close_v2(connection)
        }

        /// Runs `body` with the lookup, inside one read transaction when the setup says so.
        func withLookup<Result>(_ body: (Lookup) throws -> Result) throws -> Result {
            guard let statement else { throw BenchmarkError("kv: no prepared lookup on \(setup.name)") }
            if setup.oneReadTransaction { try execute("BEGIN", on: connection) }
            do {
                let result = try body(Lookup(handle: statement, connection: connection))
                if setup.oneReadTransaction { try execute("COMMIT", on: connection) }
                return result
            } catch {
                if setup.oneReadTransaction { try? execute("ROLLBACK", on: connection) }
                throw error
            }
        }

        /// The first column of the first row of `sql` as an integer: `PRAGMA page_size`,
        /// `SELECT count(*)`.
        func integer(_ sql: String) throws -> Int {
            var query: OpaquePointer?
            let prepared = sqlite3_prepare_v2(connection, sql, -1, &query, nil)
            defer { sqlite3_finalize(query) }
            guard prepared == SQLITE_OK else { throw failure(prepared, "preparing \(sql)", connection) }
            let code = sqlite3_step(query)
            guard code == SQLITE_ROW else { throw failure(code, "running \(sql)", connection) }
            return Int(sqlite3_column_int64(query, 0))
        }
    }
}
