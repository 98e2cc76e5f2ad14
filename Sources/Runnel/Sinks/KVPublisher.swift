#if canImport(GRDBSQLite)
import GRDBSQLite
#else
import SQLite3
#endif
import Foundation
import GRDB

/// Publishes a pipeline's KV store: what its batches committed to `runnel_kv_entries`, read in
/// one snapshot with the pipeline's offsets, written as a new file version and switched in
/// (``KVStoreFolder/build(pipeline:pipelineVersion:sourceOffsets:keep:_:)``).
///
/// Runs call it when they reach the end of the log; `runnel kv publish STORE` calls it by hand.
package enum KVPublisher {
    /// The KV stores a pipeline writes, as recorded in `derived.sqlite`.
    package static func stores(of pipeline: String, in store: Store) throws -> [String] {
        try store.derived.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM runnel_kv_stores WHERE pipeline = ? ORDER BY name", arguments: [pipeline])
        }
    }

    /// Builds a new version of store `name` from its committed entries and makes it current.
    /// - Parameters:
    ///   - name: The store.
    ///   - store: The home's databases.
    ///   - onlyIfChanged: Skip the build when nothing was committed since the last publish
    ///     and a version is there.
    ///   - metrics: Where the new version is counted; a runner that publishes again and again
    ///     makes them once and passes them each time.
    /// - Returns: The new version's manifest, or nil when skipped.
    /// - Throws: ``RunnelError`` `.kv` when no pipeline writes the store, or another process
    ///   is building it.
    @discardableResult
    package static func publish(_ name: String, from store: Store, onlyIfChanged: Bool = false,
                                metrics: KVStoreMetrics? = nil) throws -> KVManifest? {
        let started = ContinuousClock.now
        let folder = try KVStoreFolder(home: store.home, name: name)
        let built: (manifest: KVManifest, changes: Int64)? = try store.derived.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT pipeline, keep, changes, published_changes FROM runnel_kv_stores WHERE name = ?", arguments: [name]) else {
                throw RunnelError(.kv, "no pipeline writes KV store \(name) in \(store.home.derivedDatabaseURL.path)",
                                  hint: "Run the pipeline that ends in KVFile(\"\(name)\", …) first; `runnel kv list` shows published stores")
            }
            let pipeline: String = row["pipeline"]
            let changes: Int64 = row["changes"]
            if onlyIfChanged, changes == row["published_changes"] as Int64, try folder.currentVersion() != nil {
                return nil
            }
            let pipelineVersion = try Int.fetchOne(db, sql: "SELECT version FROM runnel_pipelines WHERE name = ?", arguments: [pipeline])
            let offsets = try Row.fetchAll(db, sql: """
                SELECT topic, partition, next_offset FROM runnel_pipeline_offsets WHERE pipeline = ? ORDER BY topic, partition
                """, arguments: [pipeline]).map { KVManifest.SourceOffset(topic: $0["topic"], partition: $0["partition"], nextOffset: $0["next_offset"]) }
            let statement = try db.makeStatement(sql: "SELECT key, value FROM runnel_kv_entries WHERE store = ? ORDER BY key")
            try statement.setArguments([name])
            let manifest = try folder.build(pipeline: pipeline, pipelineVersion: pipelineVersion, sourceOffsets: offsets, keep: row["keep"]) { writer in
                try forEachEntry(statement, db) { key, value in try writer.add(key: key, value: value) }
            }
            return (manifest, changes)
        }
        guard let built else { return nil }
        // The version and its build time are in its manifest; only the counter lives here.
        try store.derived.write { db in
            try db.execute(sql: "UPDATE runnel_kv_stores SET published_changes = ? WHERE name = ?", arguments: [built.changes, name])
        }
        (metrics ?? KVStoreMetrics(store: name)).published(built.manifest, took: ContinuousClock.now - started)
        return built.manifest
    }

    /// Steps a `SELECT key, value` with SQLite's C API, handing out each blob in place: a
    /// million rows through GRDB's `Row` would cost more than writing the file.
    private static func forEachEntry(_ statement: Statement, _ db: Database,
                                     _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else {
                throw RunnelError(.kv, "SQLite error \(code) reading KV entries: \(String(cString: sqlite3_errmsg(db.sqliteConnection)))")
            }
            let key = UnsafeRawBufferPointer(start: sqlite3_column_blob(handle, 0), count: Int(sqlite3_column_bytes(handle, 0)))
            let value = UnsafeRawBufferPointer(start: sqlite3_column_blob(handle, 1), count: Int(sqlite3_column_bytes(handle, 1)))
            try body(key, value)
        }
    }
}
