import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

@Suite struct StoreTests {
    @Test func openingAHomeCreatesBothDatabasesInWALModeWithForeignKeys() throws {
        let temporary = try TemporaryHome()
        #expect(!temporary.home.isInitialized)
        let store = try temporary.openStore()
        #expect(temporary.home.isInitialized)
        for role in DatabaseRole.allCases {
            #expect(FileManager.default.fileExists(atPath: temporary.home.databaseURL(role).path))
            let settings = try store.database(role).write { db in
                (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA foreign_keys"),
                 try Int.fetchOne(db, sql: "PRAGMA synchronous"), try Int.fetchOne(db, sql: "PRAGMA busy_timeout"),
                 try db.tableExists("runnel_outbox"))
            }
            #expect(settings.0 == "wal")
            #expect(settings.1 == 1)
            #expect(settings.2 == 2)
            #expect((settings.3 ?? 0) > 0)
            #expect(settings.4)
        }
        #expect(try store.app.read { try $0.tableExists("runnel_schema_migrations") })
        #expect(try store.derived.read { try !$0.tableExists("runnel_schema_migrations") })
    }

    @Test func reopeningAHomeKeepsItsData() throws {
        let temporary = try TemporaryHome()
        do {
            let store = try temporary.openStore()
            try store.app.write { db in
                try db.execute(sql: "CREATE TABLE notes (text TEXT)")
                try db.execute(sql: "INSERT INTO notes VALUES ('kept')")
            }
        }
        let store = try temporary.openStore()
        #expect(try store.app.read { try String.fetchOne($0, sql: "SELECT text FROM notes") } == "kept")
    }

    @Test func readOnlyOpeningOfAMissingHomeNamesTheHomeAndCreatesNothing() throws {
        let temporary = try TemporaryHome()
        let error = try #require(throws: RunnelError.self) { try Store.openReadOnly(temporary.home, .app) }
        #expect(error.code == .home)
        #expect(error.description.contains(temporary.home.url.path))
        #expect(error.description.contains("runnel init"))
        #expect(!FileManager.default.fileExists(atPath: temporary.home.url.path))
    }

    @Test func readOnlyConnectionsRefuseWrites() throws {
        let temporary = try TemporaryHome()
        _ = try temporary.openStore()
        let queue = try Store.openReadOnly(temporary.home, .app)
        #expect(throws: DatabaseError.self) {
            try queue.writeWithoutTransaction { try $0.execute(sql: "CREATE TABLE intruder (x)") }
        }
    }

    @Test func homeResolutionPrefersTheFlagThenTheEnvironmentThenTheDefault() {
        #expect(RunnelHome.resolve("/tmp/a", environment: ["RUNNEL_HOME": "/tmp/b"]).url.path == "/tmp/a")
        #expect(RunnelHome.resolve(nil, environment: ["RUNNEL_HOME": "/tmp/b"]).url.path == "/tmp/b")
        #expect(RunnelHome.resolve(nil, environment: [:]).url.lastPathComponent == ".runnel")
    }
}

@Suite struct SQLIdentifierTests {
    @Test func quotesInsideANameAreDoubledSoTheNameCannotEndEarly() throws {
        #expect(SQLIdentifier.quoted("members") == #""members""#)
        #expect(SQLIdentifier.quoted(#"x"; DROP TABLE t; --"#) == #""x""; DROP TABLE t; --""#)
        let queue = try DatabaseQueue()
        let name = #"a"b; c"#
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE \(SQLIdentifier.quoted(name)) (v)")
            #expect(try db.tableExists(name))
        }
    }
}
