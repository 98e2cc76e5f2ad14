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
        if role == .derived {
            migrator.registerMigration("runnel-v3-pipelines", migrate: registerPipelineTables)
            migrator.registerMigration("runnel-v4-kv", migrate: registerKVTables)
            migrator.registerMigration("runnel-v5-pipeline-rebuild", migrate: registerPipelineRunnerColumns)
        }
        migrator.registerMigration("runnel-v6-database-identity", migrate: DatabaseIdentity.create)
        if role == .derived {
            migrator.registerMigration("runnel-v7-pipeline-skipped-gaps") { db in
                // Gaps in the log a pipeline went past with --skip-gap (docs/pipelines.md).
                try db.execute(sql: """
                    CREATE TABLE runnel_pipeline_skipped_gaps (
                        pipeline TEXT NOT NULL,
                        topic TEXT NOT NULL,
                        partition INTEGER NOT NULL,
                        first_offset INTEGER NOT NULL,
                        last_offset INTEGER NOT NULL,
                        records INTEGER NOT NULL,
                        skipped_at INTEGER NOT NULL,
                        PRIMARY KEY (pipeline, topic, partition, first_offset)
                    ) WITHOUT ROWID
                    """)
            }
            migrator.registerMigration("runnel-v8-view-owners", migrate: registerViewOwners)
            migrator.registerMigration("runnel-v9-pipeline-skipped-types") { db in
                // Records no source of a pipeline took, by event type (docs/pipelines.md).
                try db.execute(sql: """
                    CREATE TABLE runnel_pipeline_skipped_types (
                        pipeline TEXT NOT NULL,
                        type TEXT NOT NULL,
                        records INTEGER NOT NULL,
                        last_skipped_at INTEGER NOT NULL,
                        PRIMARY KEY (pipeline, type)
                    ) WITHOUT ROWID
                    """)
            }
            migrator.registerMigration("runnel-v10-pipeline-shape") { db in
                // The structure a pipeline's state was built by (docs/pipelines.md): NULL until
                // its next run records it.
                try db.execute(sql: "ALTER TABLE runnel_pipelines ADD COLUMN shape TEXT")
            }
        }
        if role == .app {
            migrator.registerMigration("runnel-v11-schedules", migrate: registerScheduleTables)
            migrator.registerMigration("runnel-v12-notifications", migrate: registerNotificationTables)
            migrator.registerMigration("runnel-v13-sagas", migrate: SagaTables.create)
            migrator.registerMigration("runnel-v14-verifications", migrate: Verifications.create)
        }
        if role == .derived {
            migrator.registerMigration("runnel-v15-pipeline-source") { db in
                // Where a pipeline's offsets were read (`log`, `kafka:<cluster id>`), so state
                // built from one source never goes on from another; NULL is the log.
                try db.execute(sql: "ALTER TABLE runnel_pipelines ADD COLUMN source TEXT")
            }
        }
        if role == .app {
            migrator.registerMigration("runnel-v16-log-mirrors") { db in
                // How far `runnel log mirror` has copied each partition of the log into a
                // destination (`kafka:<cluster id>`), and where the destination's partition
                // ended then: a restart goes on from there, neither skipping nor doubling.
                try db.execute(sql: """
                    CREATE TABLE runnel_log_mirrors (
                        destination TEXT NOT NULL,
                        topic TEXT NOT NULL,
                        partition INTEGER NOT NULL,
                        next_offset INTEGER NOT NULL,
                        destination_end INTEGER NOT NULL,
                        records INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        PRIMARY KEY (destination, topic, partition)
                    ) WITHOUT ROWID
                    """)
            }
            migrator.registerMigration("runnel-v17-consumer-source") { db in
                // Where a handler's or coordinator's offsets were read (`log`, `kafka:<cluster
                // id>`), as for pipelines; NULL is the log.
                try db.execute(sql: "ALTER TABLE runnel_consumers ADD COLUMN source TEXT")
            }
        }
        return migrator
    }

    /// Schedule entries and the history of their fire times (`docs/schedules.md`), in
    /// `app.sqlite`: they are not derived, and must survive a rebuild of `derived.sqlite`.
    private static func registerScheduleTables(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE runnel_schedule_entries (
                entry TEXT PRIMARY KEY,
                expression TEXT NOT NULL,
                time_zone TEXT NOT NULL,
                cursor INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            ) WITHOUT ROWID
            """)
        // One row per fire time: the key is the claim, so two schedulers never both run one.
        try db.execute(sql: """
            CREATE TABLE runnel_schedule_runs (
                entry TEXT NOT NULL,
                fire_time INTEGER NOT NULL,
                outcome TEXT NOT NULL CHECK (outcome IN ('queued', 'running', 'succeeded', 'failed', 'skipped', 'coalesced', 'abandoned')),
                attempts INTEGER NOT NULL,
                reason TEXT,
                started_at INTEGER,
                finished_at INTEGER,
                host TEXT,
                pid INTEGER,
                owner TEXT,
                lease_until INTEGER,
                PRIMARY KEY (entry, fire_time)
            ) WITHOUT ROWID
            """)
        try db.execute(sql: """
            CREATE INDEX runnel_schedule_runs_open ON runnel_schedule_runs (entry, fire_time)
            WHERE outcome IN ('queued', 'running', 'abandoned')
            """)
    }

    /// Ticket notifications and how far their collection read the tickets topic
    /// (the Notifications section of `docs/tickets.md`), in `app.sqlite`: who was told is not derived data, and a
    /// rebuild of `derived.sqlite`, which announces every change again (with the owners of now),
    /// must tell nobody of a change already collected.
    private static func registerNotificationTables(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE runnel_notification_offsets (
                topic TEXT NOT NULL,
                partition INTEGER NOT NULL,
                next_offset INTEGER NOT NULL,
                PRIMARY KEY (topic, partition)
            ) WITHOUT ROWID;
            CREATE TABLE runnel_notifications (
                key TEXT PRIMARY KEY,
                ticket_id TEXT NOT NULL,
                opening INTEGER NOT NULL,
                service TEXT NOT NULL,
                owner TEXT NOT NULL,
                type TEXT NOT NULL,
                payload TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                file_state TEXT NOT NULL CHECK (file_state IN ('pending', 'delivered')),
                file_delivered_at INTEGER,
                webhook_state TEXT NOT NULL CHECK (webhook_state IN ('pending', 'delivered', 'failed', 'off')),
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at INTEGER,
                last_error TEXT,
                delivered_at INTEGER
            );
            CREATE TABLE runnel_notification_changes (
                ticket_id TEXT NOT NULL,
                opening INTEGER NOT NULL,
                collected_at INTEGER NOT NULL,
                PRIMARY KEY (ticket_id, opening)
            ) WITHOUT ROWID;
            CREATE INDEX runnel_notifications_file_pending ON runnel_notifications (file_state) WHERE file_state = 'pending';
            CREATE INDEX runnel_notifications_webhook_due ON runnel_notifications (next_attempt_at) WHERE webhook_state = 'pending';
            CREATE TABLE runnel_notification_files (
                path TEXT PRIMARY KEY,
                committed_bytes INTEGER NOT NULL,
                committed_tail BLOB NOT NULL
            ) WITHOUT ROWID;
            """)
    }

    /// The pipeline runtime's bookkeeping, all in `derived.sqlite` so that one transaction per
    /// batch holds sink rows, operator state, input offsets and watermarks (guarantee 3 of `docs/guarantees.md`).
    /// `docs/pipelines.md` describes each table.
    private static func registerPipelineTables(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE runnel_pipelines (
                name TEXT PRIMARY KEY,
                version INTEGER NOT NULL,
                description TEXT NOT NULL,
                views TEXT NOT NULL,
                events_in INTEGER NOT NULL DEFAULT 0,
                batches INTEGER NOT NULL DEFAULT 0,
                lag_events INTEGER NOT NULL DEFAULT 0,
                lag_ms INTEGER NOT NULL DEFAULT 0,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            );
            CREATE TABLE runnel_pipeline_offsets (
                pipeline TEXT NOT NULL REFERENCES runnel_pipelines (name) ON DELETE CASCADE,
                topic TEXT NOT NULL,
                partition INTEGER NOT NULL,
                next_offset INTEGER NOT NULL,
                max_event_time INTEGER,
                PRIMARY KEY (pipeline, topic, partition)
            ) WITHOUT ROWID;
            CREATE TABLE runnel_pipeline_state (
                pipeline TEXT NOT NULL REFERENCES runnel_pipelines (name) ON DELETE CASCADE,
                operator INTEGER NOT NULL,
                key BLOB NOT NULL,
                state BLOB NOT NULL,
                PRIMARY KEY (pipeline, operator, key)
            ) WITHOUT ROWID;
            CREATE TABLE runnel_pipeline_dead_letters (
                id INTEGER PRIMARY KEY,
                pipeline TEXT NOT NULL,
                topic TEXT NOT NULL,
                partition INTEGER NOT NULL,
                "offset" INTEGER NOT NULL,
                key TEXT,
                value TEXT,
                error TEXT NOT NULL,
                failed_at INTEGER NOT NULL
            );
            CREATE INDEX runnel_pipeline_dead_letters_pipeline ON runnel_pipeline_dead_letters (pipeline, topic, partition, "offset");
            CREATE TABLE runnel_pipeline_late_events (
                id INTEGER PRIMARY KEY,
                pipeline TEXT NOT NULL,
                topic TEXT NOT NULL,
                partition INTEGER NOT NULL,
                "offset" INTEGER NOT NULL,
                event_time INTEGER NOT NULL,
                watermark INTEGER NOT NULL,
                key TEXT,
                value TEXT,
                reason TEXT NOT NULL
            );
            CREATE INDEX runnel_pipeline_late_events_pipeline ON runnel_pipeline_late_events (pipeline, topic, partition, "offset");
            """)
    }

    /// What the one-runner rule and `runnel pipelines` need (`docs/pipelines.md`): a commit
    /// generation each batch's transaction compares and bumps, when a rebuild began (NULL once
    /// a run has read the log to its end), and the topics a pipeline reads.
    private static func registerPipelineRunnerColumns(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE runnel_pipelines ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE runnel_pipelines ADD COLUMN rebuild_started_at INTEGER;
            ALTER TABLE runnel_pipelines ADD COLUMN topics TEXT NOT NULL DEFAULT '';
            """)
    }

    /// Which pipeline owns each read view, one row per view (`docs/pipelines.md`): looked up by
    /// name, never matched in a list. SQLite's table names ignore case, so the view names do
    /// too. The comma-separated `runnel_pipelines.views` it replaces is moved over and dropped.
    private static func registerViewOwners(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE runnel_view_owners (
                view TEXT NOT NULL COLLATE NOCASE PRIMARY KEY,
                pipeline TEXT NOT NULL
            ) WITHOUT ROWID;
            CREATE INDEX runnel_view_owners_pipeline ON runnel_view_owners (pipeline);
            """)
        for row in try Row.fetchAll(db, sql: "SELECT name, views FROM runnel_pipelines") {
            for view in (row["views"] as String).split(separator: ",") where !view.isEmpty {
                try db.execute(sql: "INSERT OR IGNORE INTO runnel_view_owners (view, pipeline) VALUES (?, ?)", arguments: [String(view), row["name"] as String])
            }
        }
        try db.execute(sql: "ALTER TABLE runnel_pipelines DROP COLUMN views")
    }

    /// What KV sinks have written, committed with each batch like a read view (guarantee 3 of `docs/guarantees.md`),
    /// and when each store was last published as a file version (`docs/kv-format.md`).
    private static func registerKVTables(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE runnel_kv_stores (
                name TEXT PRIMARY KEY,
                pipeline TEXT NOT NULL,
                keep INTEGER NOT NULL,
                changes INTEGER NOT NULL DEFAULT 0,
                published_changes INTEGER NOT NULL DEFAULT -1
            );
            CREATE TABLE runnel_kv_entries (
                store TEXT NOT NULL,
                key BLOB NOT NULL,
                value BLOB NOT NULL,
                PRIMARY KEY (store, key)
            ) WITHOUT ROWID;
            """)
    }
}
