import GRDB

/// Business migrations may not touch Runnel's own tables (`runnel_*`, their indexes and
/// triggers, and `grdb_migrations`, the record of Runnel's schema versions): a migration that
/// drops the outbox, or writes rows into it behind ``Outbox``'s back, would be recorded as applied
/// and leave every later command failing with raw SQLite errors.
///
/// Each statement of a migration is checked as it runs, inside the file's transaction: a write to
/// one of these tables (seen by a transaction observer, which GRDB asks about every statement's
/// inserts, updates and deletes before it runs) or a change to their schema (`sqlite_master`
/// compared with its state before the file) stops the file, and the transaction rolls back whole.
extension SchemaMigrator {
    /// Whether a table belongs to Runnel.
    static func isRunnelTable(_ name: String) -> Bool {
        let name = name.lowercased()
        return name.hasPrefix("runnel_") || name == "grdb_migrations"
    }

    /// Runnel's schema objects as `sqlite_master` holds them: its tables, their indexes and
    /// triggers, and any trigger whose SQL names one of them.
    static func runnelSchema(_ db: Database) throws -> [String: String] {
        let rows = try Row.fetchAll(db, sql: #"""
            SELECT type, name, sql FROM sqlite_master
            WHERE name LIKE 'runnel\_%' ESCAPE '\' OR tbl_name LIKE 'runnel\_%' ESCAPE '\'
               OR name = 'grdb_migrations' OR tbl_name = 'grdb_migrations'
               OR (type = 'trigger' AND (sql LIKE '%runnel\_%' ESCAPE '\' OR sql LIKE '%grdb\_migrations%' ESCAPE '\'))
            """#)
        var schema = Dictionary(rows.map { ("\($0["type"] as String) \($0["name"] as String)", ($0["sql"] as String?) ?? "") },
                                uniquingKeysWith: { first, _ in first })
        // The outbox's id counter: setting it back would hand out relayed ids again (a change
        // to `sqlite_sequence` is no row change a transaction observer sees).
        if try db.tableExists("sqlite_sequence") {
            for row in try Row.fetchAll(db, sql: #"SELECT name, seq FROM sqlite_sequence WHERE name LIKE 'runnel\_%' ESCAPE '\'"#) {
                schema["id counter of \(row["name"] as String)"] = "\(row["seq"] as Int64)"
            }
        }
        return schema
    }

    /// Runs a migration's statements one by one, stopping at the first that touches Runnel's
    /// tables.
    /// - Throws: ``OwnTableChange`` naming the statement and what it did; SQLite's errors.
    static func executeGuarded(_ sql: String, in db: Database) throws {
        let writes = RunnelTableWrites()
        db.add(transactionObserver: writes, extent: .observerLifetime)
        defer { db.remove(transactionObserver: writes) }
        let before = try runnelSchema(db)
        let statements = try db.allStatements(sql: sql)
        while let statement = try statements.next() {
            if let table = writes.table {
                throw OwnTableChange(statement: statement.sql, change: "writes to Runnel's table \(table)")
            }
            try statement.execute()
            if let table = writes.table {
                throw OwnTableChange(statement: statement.sql, change: "writes to Runnel's table \(table)")
            }
            let after = try runnelSchema(db)
            guard after == before else {
                let created = after.keys.filter { before[$0] == nil }.sorted()
                let removed = before.keys.filter { after[$0] == nil }.sorted()
                let altered = after.keys.filter { before[$0] != nil && before[$0] != after[$0] }.sorted()
                let change = created.first.map { "creates the \($0) in Runnel's namespace" }
                    ?? removed.first.map { "drops or renames Runnel's \($0)" }
                    ?? "alters Runnel's \(altered.first ?? "schema")"
                throw OwnTableChange(statement: statement.sql, change: change)
            }
        }
    }

    /// A statement of a business migration that touches Runnel's own tables.
    struct OwnTableChange: Error {
        var statement: String
        var change: String
    }
}

/// Notes the first of Runnel's tables a statement is about to insert into, update or delete
/// from. GRDB asks a transaction observer about each kind of change a statement makes before
/// running it, rows or not.
private final class RunnelTableWrites: TransactionObserver {
    // Only touched on the connection's own thread, while the migration's transaction runs.
    var table: String?

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        if table == nil, SchemaMigrator.isRunnelTable(eventKind.tableName) {
            table = eventKind.tableName
        }
        return false
    }

    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) {}
    func databaseDidRollback(_ db: Database) {}
}
