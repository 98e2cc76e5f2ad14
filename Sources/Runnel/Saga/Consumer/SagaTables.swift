import GRDB

/// The tables of handlers and saga coordinators in `app.sqlite` (described in `docs/sagas.md`):
/// their offsets, the commands handlers completed, what they could not take, and every saga
/// instance with its timeline.
enum SagaTables {
    static func create(_ db: Database) throws {
        // Where each consumer (`handler:NAME`, `saga:NAME`) has read each partition to,
        // committed with the changes the records made.
        try db.execute(sql: """
            CREATE TABLE runnel_consumer_offsets (
                consumer TEXT NOT NULL,
                topic TEXT NOT NULL,
                partition INTEGER NOT NULL,
                next_offset INTEGER NOT NULL,
                PRIMARY KEY (consumer, topic, partition)
            ) WITHOUT ROWID
            """)
        // What each consumer has done, for status screens: counts and the last commit.
        try db.execute(sql: """
            CREATE TABLE runnel_consumers (
                consumer TEXT PRIMARY KEY,
                records INTEGER NOT NULL DEFAULT 0,
                handled INTEGER NOT NULL DEFAULT 0,
                duplicates INTEGER NOT NULL DEFAULT 0,
                skipped INTEGER NOT NULL DEFAULT 0,
                dead_letters INTEGER NOT NULL DEFAULT 0,
                last_commit_at INTEGER
            ) WITHOUT ROWID
            """)
        // Command ids a handler completed: a retry of one (same id) is recognised and ignored.
        try db.execute(sql: """
            CREATE TABLE runnel_handled_commands (
                handler TEXT NOT NULL,
                command_id TEXT NOT NULL,
                handled_at INTEGER NOT NULL,
                PRIMARY KEY (handler, command_id)
            ) WITHOUT ROWID
            """)
        // Records a handler or coordinator could not take (undecodable, or the handler threw),
        // with why and where; their changes were rolled back, the rest kept flowing.
        try db.execute(sql: """
            CREATE TABLE runnel_consumer_dead_letters (
                id INTEGER PRIMARY KEY,
                consumer TEXT NOT NULL,
                topic TEXT NOT NULL,
                partition INTEGER NOT NULL,
                "offset" INTEGER NOT NULL,
                type TEXT NOT NULL,
                command_id TEXT,
                payload TEXT,
                reason TEXT NOT NULL,
                failed_at INTEGER NOT NULL
            )
            """)
        try db.execute(sql: "CREATE INDEX runnel_consumer_dead_letters_consumer ON runnel_consumer_dead_letters (consumer, id)")
        // One row per saga instance: where it is, its data, and when it next needs attention.
        try db.execute(sql: """
            CREATE TABLE runnel_sagas (
                id TEXT PRIMARY KEY,
                saga TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('running', 'compensating', 'completed', 'compensated', 'failed')),
                data TEXT NOT NULL,
                version INTEGER NOT NULL,
                step INTEGER NOT NULL,
                completed_steps INTEGER NOT NULL,
                effective_steps INTEGER NOT NULL,
                undone_steps INTEGER NOT NULL,
                compensating INTEGER NOT NULL,
                attempt INTEGER NOT NULL,
                awaiting TEXT,
                deadline INTEGER,
                deadline_kind TEXT,
                reason TEXT,
                last_seq INTEGER NOT NULL,
                started_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            ) WITHOUT ROWID
            """)
        try db.execute(sql: "CREATE INDEX runnel_sagas_deadline ON runnel_sagas (saga, deadline) WHERE deadline IS NOT NULL")
        // Instances by state (`runnel saga list --state`). Not by time too: every change of an
        // instance moves its `updated_at`, and an index on it would be rewritten with each.
        try db.execute(sql: "CREATE INDEX runnel_sagas_state ON runnel_sagas (saga, state)")
        // Each saga's timeline: commands and compensations sent, replies taken, ignored,
        // timeouts, retries and operator actions, in order.
        try db.execute(sql: """
            CREATE TABLE runnel_saga_log (
                saga_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                at INTEGER NOT NULL,
                step INTEGER,
                kind TEXT NOT NULL,
                command_id TEXT,
                type TEXT,
                detail TEXT,
                PRIMARY KEY (saga_id, seq)
            ) WITHOUT ROWID
            """)
    }
}
