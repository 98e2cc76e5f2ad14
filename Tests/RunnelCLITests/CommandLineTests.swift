import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

@Suite struct CommandLineTests {
    @Test func initMigrateAndSampleLoadFillTheOutboxOneJSONLinePerEvent() async throws {
        let temporary = try TemporaryHome()
        let home = temporary.home.url.path
        #expect(await runnel("init", "--home", home).status == 0)
        let pending = await runnel("migrate", "--status", "--home", home)
        #expect(pending.output.contains("0001_members.sql") && pending.output.contains("pending"))
        let migrated = await runnel("migrate", "--home", home)
        #expect(migrated.status == 0)
        #expect(migrated.output.contains("Applied 6 migrations"))
        let loaded = await runnel("sample", "load", "--home", home)
        #expect(loaded.status == 0, "\(loaded.error)")

        let events = try await Store.openReadOnly(temporary.home, .app).read { db in
            try Int.fetchOne(db, sql: "SELECT events FROM runnel_sample_loads WHERE dataset = 'network'")!
        }
        #expect(loaded.output.contains("\(events) events appended"))
        let outbox = await runnel("inspect", "outbox", "--format", "json", "--home", home)
        #expect(outbox.status == 0)
        #expect(outbox.outputLines.count == events)
        for line in outbox.outputLines.prefix(50) {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["payload"] is [String: Any])
        }
    }

    @Test func sampleLoadBeforeMigrateSaysToMigrate() async throws {
        let temporary = try TemporaryHome()
        let result = await runnel("sample", "load", "--home", temporary.home.url.path)
        #expect(result.status == 1)
        #expect(result.error.contains("runnel migrate"))
    }

    /// What a demo leaves behind: records per topic in the log, rows per read view, KV entries,
    /// late and dead-lettered records, outbox rows still waiting in either database.
    static func demoTotals(_ home: RunnelHome) throws -> [String: Int] {
        var totals: [String: Int] = [:]
        let log = try Log.openForReading(home.logURL)
        for name in log.topicNames {
            let topic = try #require(try log.topic(name))
            totals["log \(name)"] = topic.partitions.reduce(0) { $0 + Int($1.endOffset - $1.startOffset) }
        }
        try Store.openReadOnly(home, .derived).read { db in
            for view in ["member_profiles", "member_engagement_5m", "profile_views_by_industry_1h", "member_sessions", "runnel_kv_entries",
                         "runnel_pipeline_late_events", "runnel_pipeline_dead_letters", "runnel_outbox"] {
                totals[view] = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(view)")
            }
        }
        totals["app outbox"] = try Store.openReadOnly(home, .app).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") }
        return totals
    }

    @Test func demoIsSafeToRunTwice() async throws {
        let temporary = try TemporaryHome()
        let home = temporary.home.url.path
        let first = await runnel("demo", "--home", home)
        #expect(first.status == 0, "\(first.error)")
        #expect(first.output.contains("Try next:"))
        let before = try Self.demoTotals(temporary.home)
        #expect(before["log member-activity", default: 0] > 0)
        #expect(before["member_profiles", default: 0] > 0 && before["member_engagement_5m", default: 0] > 0)
        #expect(before["runnel_kv_entries", default: 0] > 0)

        let second = await runnel("demo", "--home", home)
        #expect(second.status == 0, "\(second.error)")
        #expect(second.output.contains("already loaded"))
        // Nothing recorded twice: not in the log, a view, a KV store, the late or dead letters.
        #expect(try Self.demoTotals(temporary.home) == before)
    }

    @Test func errorsAreOneLineWithoutAStackTraceAndExitNonZero() async throws {
        let temporary = try TemporaryHome()
        let missing = await runnel("inspect", "tables", "--home", temporary.home.url.path)
        #expect(missing.status == 1)
        #expect(missing.error.split(separator: "\n").count == 1)
        #expect(missing.error.hasPrefix("error: no app.sqlite"))

        let usage = await runnel("inspect", "table")
        #expect(usage.status == 64)
        let unknown = await runnel("inspect", "tables", "--db", "other")
        #expect(unknown.status == 64)
    }

    @Test func generateWritesADeterministicFileThatLoads() async throws {
        let temporary = try TemporaryHome()
        let first = temporary.folder.appendingPathComponent("a.jsonl").path
        let second = temporary.folder.appendingPathComponent("b.jsonl").path
        for path in [first, second] {
            let result = await runnel("sample", "generate", "--members", "20", "--hours", "2", "--seed", "7", "--output", path)
            #expect(result.status == 0, "\(result.error)")
        }
        #expect(FileManager.default.contentsEqual(atPath: first, andPath: second))
        let home = temporary.home.url.path
        #expect(await runnel("migrate", "--home", home).status == 0)
        let loaded = await runnel("sample", "load", "--file", first, "--home", home)
        #expect(loaded.status == 0, "\(loaded.error)")
    }

    @Test func theBuiltBinaryRunsTheDemoInAnyEmptyFolder() throws {
        let temporary = try TemporaryHome()
        let errors = Pipe()
        let process = try ChildProcess.launch(["demo", "--home", temporary.home.url.path], in: temporary.folder, standardError: errors)
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(message)")
        #expect(temporary.home.isInitialized)
    }
}
