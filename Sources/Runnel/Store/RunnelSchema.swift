import GRDB

/// Runnel's own tables, versioned with GRDB's migrator and applied whenever a store opens.
///
/// Never edit a registered migration: add a new one. The tables are described in
/// `docs/operations.md`.
enum RunnelSchema {
    static func migrator(for role: DatabaseRole) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("runnel-v1-outbox") { db in
            // AUTOINCREMENT, because the relay deletes relayed rows: a plain rowid would hand the
            // largest deleted id out again, and the relay's `id > last` would skip it.
            try db.execute(sql: """
                CREATE TABLE runnel_outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    topic TEXT NOT NULL,
                    key TEXT,
                    type TEXT NOT NULL,
                    schema_version INTEGER NOT NULL,
                    payload TEXT NOT NULL,
                    headers TEXT,
                    event_time INTEGER NOT NULL,
                    created_at INTEGER NOT NULL
                )
                """)
        }
        if role == .app {
            migrator.registerMigration("runnel-v1-schema-migrations") { db in
                try db.execute(sql: """
                    CREATE TABLE runnel_schema_migrations (
                        number INTEGER PRIMARY KEY,
                        name TEXT NOT NULL,
                        checksum TEXT NOT NULL,
                        applied_at INTEGER NOT NULL
                    )
                    """)
            }
            migrator.registerMigration("runnel-v1-sample-loads") { db in
                // One row per sample data set: how far loading got, committed with each batch of
                // operations so an interrupted load resumes where it stopped.
                try db.execute(sql: """
                    CREATE TABLE runnel_sample_loads (
                        dataset TEXT PRIMARY KEY,
                        checksum TEXT NOT NULL,
                        next_line INTEGER NOT NULL,
                        total_lines INTEGER NOT NULL,
                        events INTEGER NOT NULL,
                        started_at INTEGER NOT NULL,
                        finished_at INTEGER
                    )
                    """)
            }
        }
        migrator.registerMigration("runnel-v2-outbox-dead-letters") { db in
            // Rows the relay can never publish (over the topic's record limit, say), with why.
            try db.execute(sql: """
                CREATE TABLE runnel_outbox_dead_letters (
                    id INTEGER PRIMARY KEY,
                    topic TEXT NOT NULL,
                    key TEXT,
                    type TEXT NOT NULL,
                    schema_version INTEGER NOT NULL,
                    payload TEXT NOT NULL,
                    headers TEXT,
                    event_time INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    reason TEXT NOT NULL,
                    failed_at INTEGER NOT NULL
                )
                """)
        }
        return migrator
    }
}
