import Foundation
import GRDB
import Logging
@testable import Runnel
import RunnelTesting
import Testing

/// Each read view belongs to one pipeline, recorded one row per view in `runnel_view_owners`:
/// looked up by name (SQLite's table names ignore case, so ownership does too), never matched
/// as a pattern in a list. View names are plain SQL names.
@Suite struct ViewOwnershipTests {
    private func counting(_ name: String, into view: String) -> Pipeline {
        Pipeline(name, version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId)
                .aggregate { Count("clicks") }
                .into(ReadView(view, primaryKey: ["user_id"]))
        }
    }

    private func owners(_ driver: PipelineTestDriver) throws -> [String: String] {
        try driver.store.derived.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT view, pipeline FROM runnel_view_owners").map { ($0["view"] as String, $0["pipeline"] as String) })
        }
    }

    @Test func anUnderscoreInANameIsNotAWildcardAndCaseDoesNotMakeANewTable() throws {
        let driver = try PipelineTestDriver(counting("first", into: "statsx1"))
        try driver.click(1, user: 1, at: 0)
        try driver.run()
        // `stats_1` once matched `statsx1` as a LIKE pattern and was refused as taken.
        try driver.replace(with: counting("second", into: "stats_1"))
        try driver.run()
        #expect(try owners(driver) == ["statsx1": "first", "stats_1": "second"])
        #expect(try driver.rows("stats_1").count == 1)

        // `STATSX1` is the table `statsx1` to SQLite: taken.
        try driver.replace(with: counting("third", into: "STATSX1"))
        let error = try #require(throws: RunnelError.self) { try driver.run() }
        #expect(error.code == .pipeline)
        #expect(error.message == "read view STATSX1 of pipeline third is already written by pipeline first")

        // A rebuild gives its views up and takes them back.
        try driver.replace(with: counting("first", into: "statsx1"), rebuild: true)
        #expect(try owners(driver) == ["stats_1": "second"])
        try driver.run()
        #expect(try owners(driver) == ["statsx1": "first", "stats_1": "second"])
    }

    @Test(arguments: ["member,sessions", "member-sessions", "member sessions", "1st_view", "odd\"name", "",
                      String(repeating: "v", count: 101), "Runnel_mine", "SQLITE_stat9", "vü"])
    func aViewNameThatIsNotAPlainSQLNameIsRefused(_ name: String) throws {
        let driver = try PipelineTestDriver(counting("named", into: name))
        try driver.click(1, user: 1, at: 0)
        let error = try #require(throws: RunnelError.self) { try driver.run() }
        #expect(error.code == .pipeline)
        #expect(error.message.contains("names a read view \"\(name)\""), "\(error)")
        #expect(try owners(driver).isEmpty)
    }

    @Test func twoSpellingsOfOneViewInAPipelineAreRefused() throws {
        let pipeline = Pipeline("twice", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId).aggregate { Count("clicks") }
                .into(ReadView("counts", primaryKey: ["user_id"]))
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId).aggregate { Count("clicks") }
                .into(ReadView("Counts", primaryKey: ["user_id"]))
        }
        let driver = try PipelineTestDriver(pipeline)
        let error = try #require(throws: RunnelError.self) { try driver.run() }
        #expect(error.message.contains("one table to SQLite"))
    }

    @Test func theMigrationMovesTheOldListIntoTheTable() throws {
        let temporary = try TemporaryHome(label: "view-owners-migration")
        // A derived database as the release before this one left it.
        do {
            try FileManager.default.createDirectory(at: temporary.home.url, withIntermediateDirectories: true)
            let queue = try DatabaseQueue(path: temporary.home.derivedDatabaseURL.path)
            try RunnelSchema.migrator(for: .derived).migrate(queue, upTo: "runnel-v7-pipeline-skipped-gaps")
            try queue.write { db in
                try db.execute(sql: """
                    INSERT INTO runnel_pipelines (name, version, description, views, created_at, updated_at) VALUES ('old', 1, 'x', 'a_view,b_view', 0, 0);
                    INSERT INTO runnel_pipelines (name, version, description, views, created_at, updated_at) VALUES ('none', 1, 'x', '', 0, 0);
                    """)
            }
        }
        let store = try temporary.openStore()
        let (rows, columns) = try store.derived.read { db in
            (try Row.fetchAll(db, sql: "SELECT view, pipeline FROM runnel_view_owners ORDER BY view").map { "\($0["view"] as String)=\($0["pipeline"] as String)" },
             try db.columns(in: "runnel_pipelines").map(\.name))
        }
        #expect(rows == ["a_view=old", "b_view=old"])
        #expect(!columns.contains("views"))
    }
}
