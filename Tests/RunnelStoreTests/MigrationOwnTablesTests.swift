import Foundation
import GRDB
@testable import Runnel
import RunnelTesting
import Testing

/// Business migrations cannot create, alter, drop or write Runnel's own tables: such a file is
/// refused naming the file and line, and rolls back whole.
@Suite struct MigrationOwnTablesTests {
    static let insertIntoOutbox = "INSERT INTO runnel_outbox (topic, type, schema_version, payload, event_time, created_at) VALUES ('t', 'T', 1, '{}', 0, 0)"

    @Test(arguments: [
        ("DROP TABLE runnel_outbox;", "drops or renames Runnel's table runnel_outbox"),
        ("ALTER TABLE runnel_outbox ADD COLUMN extra TEXT;", "alters Runnel's table runnel_outbox"),
        ("ALTER TABLE RUNNEL_OUTBOX RENAME TO old_outbox;", "drops or renames Runnel's table runnel_outbox"),
        ("CREATE TABLE runnel_mine (x);", "creates the table runnel_mine"),
        ("CREATE INDEX business_index ON runnel_outbox (topic);", "creates the index business_index"),
        ("CREATE TRIGGER spy AFTER INSERT ON b BEGIN \(insertIntoOutbox); END;", "creates the trigger spy"),
        ("CREATE VIEW runnel_summary AS SELECT 1;", "creates the view runnel_summary"),
        ("\(insertIntoOutbox);", "writes to Runnel's table runnel_outbox"),
        ("DELETE FROM runnel_schema_migrations;", "writes to Runnel's table runnel_schema_migrations"),
        ("UPDATE grdb_migrations SET identifier = 'x' WHERE 0;", "writes to Runnel's table grdb_migrations"),
        ("INSERT INTO sqlite_sequence (name, seq) VALUES ('runnel_outbox', 0);", "creates the id counter of runnel_outbox"),
    ])
    func aMigrationTouchingRunnelsTablesIsRefusedAndRolledBackWhole(_ statement: String, _ change: String) throws {
        let temporary = try TemporaryHome()
        let store = try temporary.openStore()
        let database = store.app
        let folder = try temporary.makeMigrations([
            "0001_a.sql": "CREATE TABLE a (id INTEGER);",
            "0002_touch.sql": "-- a business table, then the statement\nCREATE TABLE b (x);\n\(statement)\n",
        ])
        let schema = try database.read(SchemaMigrator.runnelSchema)
        let error = try #require(throws: RunnelError.self) { try SchemaMigrator(directory: folder).migrate(database) }
        #expect(error.code == .migration)
        #expect(error.message.hasPrefix("the migration 0002_touch.sql at line 3 \(change)"), "\(error)")
        #expect(error.description.contains("nothing from this file was applied"))
        #expect(error.description.contains(folder.appendingPathComponent("0002_touch.sql").path))
        let after = try database.read { db in
            (schema: try SchemaMigrator.runnelSchema(db), a: try db.tableExists("a"), b: try db.tableExists("b"),
             applied: try Int.fetchAll(db, sql: "SELECT number FROM runnel_schema_migrations"),
             outbox: try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_outbox"))
        }
        #expect(after.schema == schema)
        #expect(after.a && !after.b)
        #expect(after.applied == [1])
        #expect(after.outbox == 0)
    }

    @Test func businessSchemaBesideRunnelsTablesIsApplied() throws {
        let temporary = try TemporaryHome()
        let store = try temporary.openStore()
        let folder = try temporary.makeMigrations(["0001_business.sql": """
            CREATE TABLE runnelish (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);
            CREATE INDEX runnelish_name ON runnelish (name);
            CREATE TRIGGER runnelish_touch AFTER INSERT ON runnelish BEGIN UPDATE runnelish SET name = upper(name) WHERE id = new.id; END;
            CREATE VIEW pending_events AS SELECT topic, count(*) AS events FROM runnel_outbox GROUP BY topic;
            INSERT INTO runnelish (name) VALUES ('a');
            """])
        #expect(try SchemaMigrator(directory: folder).migrate(store.app).count == 1)
        #expect(try store.app.read { try String.fetchOne($0, sql: "SELECT name FROM runnelish") } == "A")
    }
}
