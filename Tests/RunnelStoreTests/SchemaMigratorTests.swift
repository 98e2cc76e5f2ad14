import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

@Suite struct SchemaMigratorTests {
    let temporary: TemporaryHome
    let store: Store

    init() throws {
        temporary = try TemporaryHome()
        store = try temporary.openStore()
    }

    private func tables() throws -> [String] {
        try store.app.read { db in
            try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table'
                AND name NOT LIKE 'runnel_%' AND name NOT LIKE 'grdb_%' AND name NOT LIKE 'sqlite_%' ORDER BY name
                """)
        }
    }

    private func recorded() throws -> [Int] {
        try store.app.read { try Int.fetchAll($0, sql: "SELECT number FROM runnel_schema_migrations ORDER BY number") }
    }

    @Test func migrationsApplyInOrderAndOnlyOnce() throws {
        let folder = try temporary.makeMigrations([
            "0001_a.sql": "CREATE TABLE a (id INTEGER PRIMARY KEY);",
            // Depends on 0001: fails unless the order is kept.
            "0002_b.sql": "CREATE TABLE b (a_id INTEGER REFERENCES a (id)); INSERT INTO a VALUES (1); INSERT INTO b VALUES (1);",
            "README.md": "not a migration",
        ])
        let migrator = SchemaMigrator(directory: folder)
        #expect(try migrator.migrate(store.app).map(\.fileName) == ["0001_a.sql", "0002_b.sql"])
        #expect(try migrator.migrate(store.app).isEmpty)
        #expect(try tables() == ["a", "b"])
        #expect(try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM b") } == 1)
        #expect(try migrator.status(store.app).map(\.state) == [.applied, .applied])

        try Data("CREATE TABLE c (x);".utf8).write(to: folder.appendingPathComponent("0003_c.sql"))
        #expect(try migrator.status(store.app).map(\.state) == [.applied, .applied, .pending])
        #expect(try migrator.migrate(store.app).map(\.number) == [3])
        #expect(try recorded() == [1, 2, 3])
    }

    @Test func aChangedAppliedFileIsRefusedAndNothingElseIsApplied() throws {
        let folder = try temporary.makeMigrations(["0001_a.sql": "CREATE TABLE a (id INTEGER);"])
        try SchemaMigrator(directory: folder).migrate(store.app)
        try Data("CREATE TABLE a (id INTEGER, extra TEXT);".utf8).write(to: folder.appendingPathComponent("0001_a.sql"))
        try Data("CREATE TABLE b (id INTEGER);".utf8).write(to: folder.appendingPathComponent("0002_b.sql"))

        let error = try #require(throws: RunnelError.self) { try SchemaMigrator(directory: folder).migrate(store.app) }
        #expect(error.code == .migration)
        #expect(error.description.contains("0001_a.sql"))
        #expect(error.description.contains("changed"))
        #expect(error.description.contains("new migration numbered 0003"))
        #expect(try tables() == ["a"])
        #expect(try recorded() == [1])
        #expect(try SchemaMigrator(directory: folder).status(store.app).map(\.state) == [.changed, .pending])
    }

    @Test func aGapInTheNumbersIsRefusedWithTheDatabaseUnchanged() throws {
        let folder = try temporary.makeMigrations([
            "0001_a.sql": "CREATE TABLE a (id INTEGER);",
            "0003_c.sql": "CREATE TABLE c (id INTEGER);",
        ])
        let error = try #require(throws: RunnelError.self) { try SchemaMigrator(directory: folder).migrate(store.app) }
        #expect(error.description.contains("0002 is missing"))
        #expect(error.description.contains("0003_c.sql"))
        #expect(try tables().isEmpty)
        #expect(try recorded().isEmpty)
    }

    @Test func aDuplicateNumberIsRefusedNamingBothFiles() throws {
        let folder = try temporary.makeMigrations([
            "0001_a.sql": "CREATE TABLE a (id INTEGER);",
            "0001_b.sql": "CREATE TABLE b (id INTEGER);",
        ])
        let error = try #require(throws: RunnelError.self) { try SchemaMigrator(directory: folder).migrate(store.app) }
        #expect(error.description.contains("0001_a.sql"))
        #expect(error.description.contains("0001_b.sql"))
        #expect(try tables().isEmpty)
    }

    @Test func brokenSQLNamesTheFileLineAndSQLiteMessageAndLeavesNothingHalfApplied() throws {
        let folder = try temporary.makeMigrations([
            "0001_a.sql": "CREATE TABLE a (id INTEGER);",
            "0002_broken.sql": "CREATE TABLE half (id INTEGER);\nINSERT INTO half VALUES (1);\nCRATE TABLE oops (id INTEGER);\n",
        ])
        let error = try #require(throws: RunnelError.self) { try SchemaMigrator(directory: folder).migrate(store.app) }
        #expect(error.code == .migration)
        #expect(error.description.contains("0002_broken.sql"))
        #expect(error.description.contains("line 3"))
        #expect(error.description.contains("syntax error"))
        // 0001 ran in its own transaction and stays; nothing of 0002 remains.
        #expect(try tables() == ["a"])
        #expect(try recorded() == [1])
    }

    @Test func anAppliedFileThatDisappearedIsRefused() throws {
        let folder = try temporary.makeMigrations([
            "0001_a.sql": "CREATE TABLE a (id INTEGER);",
            "0002_b.sql": "CREATE TABLE b (id INTEGER);",
        ])
        try SchemaMigrator(directory: folder).migrate(store.app)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("0002_b.sql"))
        let error = try #require(throws: RunnelError.self) { try SchemaMigrator(directory: folder).migrate(store.app) }
        #expect(error.description.contains("0002_b.sql"))
        #expect(error.description.contains("not in"))
    }

    @Test(arguments: ["1_a.sql", "0001-a.sql", "0001_.sql", "00001_a.sql", "abcd_a.sql", "0001_a b.sql"])
    func aBadlyNamedFileIsRefusedWithTheExpectedPattern(_ name: String) throws {
        let folder = try temporary.makeMigrations([name: "CREATE TABLE a (id INTEGER);"])
        let error = try #require(throws: RunnelError.self) { try SchemaMigrator(directory: folder).migrate(store.app) }
        #expect(error.description.contains(name))
        #expect(error.description.contains("NNNN_name.sql"))
        #expect(try tables().isEmpty)
    }

    @Test func aMissingFolderIsRefusedWithAHint() throws {
        let missing = temporary.folder.appendingPathComponent("nowhere")
        let error = try #require(throws: RunnelError.self) { try SchemaMigrator(directory: missing).migrate(store.app) }
        #expect(error.description.contains(missing.path))
        #expect(error.description.contains("--migrations"))
    }
}
