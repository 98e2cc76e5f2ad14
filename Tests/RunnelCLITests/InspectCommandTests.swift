import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

@Suite struct InspectCommandTests {
    let temporary: TemporaryHome
    let home: String

    init() async throws {
        temporary = try TemporaryHome()
        home = temporary.home.url.path
        // Without relaying, so the outbox still holds the sample's events.
        for command in [["migrate"], ["sample", "load"]] {
            let setup = await runnel(command + ["--home", home])
            #expect(setup.status == 0, "\(setup.error)")
        }
    }

    private func count(_ sql: String) throws -> Int? {
        try Store.openReadOnly(temporary.home, .app).read { try Int.fetchOne($0, sql: sql) }
    }

    @Test(arguments: [
        "DELETE FROM members",
        "UPDATE members SET name = 'x'",
        "INSERT INTO members (member_id, name, email, industry, joined_at) VALUES (999, 'x', 'x', 'x', 0)",
        "DROP TABLE members",
        "CREATE TABLE intruder (x)",
        "PRAGMA user_version = 7",
    ])
    func inspectSQLRefusesWritesAndChangesNothing(_ statement: String) async throws {
        let members = try count("SELECT count(*) FROM members")
        let result = await runnel("inspect", "sql", statement, "--home", home)
        #expect(result.status == 1)
        #expect(result.error.hasPrefix("error: "))
        #expect(result.error.split(separator: "\n").count == 1)
        #expect(try count("SELECT count(*) FROM members") == members)
        #expect(try count("SELECT count(*) FROM sqlite_master WHERE name = 'intruder'") == 0)
        #expect(try count("PRAGMA user_version") == 0)
    }

    @Test func aDeleteIsRefusedWithAMessageSayingInspectOnlyReads() async throws {
        let result = await runnel("inspect", "sql", "DELETE FROM members", "--home", home)
        #expect(result.error.contains("inspect only reads"))
        #expect(result.error.contains("Nothing was changed"))
    }

    @Test func aTableNameWithQuotesAndSemicolonsIsQuotedNotPasted() async throws {
        let evil = #"evil"; DROP TABLE members; --"#
        let store = try temporary.openStore()
        try await store.app.write { db in
            try db.execute(sql: "CREATE TABLE \(SQLIdentifier.quoted(evil)) (x TEXT)")
            try db.execute(sql: "INSERT INTO \(SQLIdentifier.quoted(evil)) VALUES ('harmless')")
        }
        let result = await runnel("inspect", "table", evil, "--format", "json", "--home", home)
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == #"{"x":"harmless"}"# + "\n")
        #expect(try count("SELECT count(*) FROM members") == 100)

        let missing = await runnel("inspect", "table", "members; DROP TABLE members", "--home", home)
        #expect(missing.status == 1)
        #expect(missing.error.contains("no table or view named"))
        #expect(try count("SELECT count(*) FROM members") == 100)
    }

    @Test func aWhereClauseCannotSmuggleInASecondStatement() async throws {
        let result = await runnel("inspect", "table", "members", "--where", "1; DROP TABLE members", "--home", home)
        #expect(result.status == 1)
        #expect(try count("SELECT count(*) FROM members") == 100)
        let filtered = await runnel("inspect", "table", "members", "--where", "member_id <= 3", "--format", "csv", "--home", home)
        #expect(filtered.status == 0)
        #expect(filtered.outputLines.count == 4)
        #expect(filtered.outputLines.first?.hasPrefix("member_id,name,email") == true)
    }

    @Test func aTableInTheOtherDatabaseIsPointedTo() async throws {
        let result = await runnel("inspect", "table", "runnel_schema_migrations", "--db", "derived", "--home", home)
        #expect(result.status == 1)
        #expect(result.error.contains("--db app"))
    }

    @Test func tablesListsRowCounts() async throws {
        let result = await runnel("inspect", "tables", "--format", "json", "--home", home)
        #expect(result.status == 0)
        #expect(result.outputLines.contains(#"{"name":"members","type":"table","rows":100}"#))
    }

    @Test func outboxJSONEmbedsThePayloadAsAnObject() async throws {
        let result = await runnel("inspect", "outbox", "--topic", "member-profile", "--limit", "1", "--format", "json", "--home", home)
        #expect(result.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        #expect(object?["type"] as? String == "MemberJoined")
        #expect((object?["payload"] as? [String: Any])?["memberId"] as? Int == 1)
    }

    @Test func tablesShowTimesAsISO8601AndJSONKeepsMilliseconds() async throws {
        let sql = "SELECT member_id, joined_at FROM members WHERE member_id = 1"
        let joined = try #require(try count("SELECT joined_at FROM members WHERE member_id = 1"))
        let iso = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(joined) / 1000))
        let table = await runnel("inspect", "sql", sql, "--home", home)
        #expect(table.status == 0, "\(table.error)")
        #expect(table.output.contains(iso) && !table.output.contains(String(joined)), "\(table.output)")
        let json = await runnel("inspect", "sql", sql, "--format", "json", "--home", home)
        #expect(json.output == "{\"member_id\":1,\"joined_at\":\(joined)}\n")
    }
}
