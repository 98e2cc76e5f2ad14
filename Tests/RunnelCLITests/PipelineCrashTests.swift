import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting
import Testing

/// Invariant 3 under real crashes: child `runnel run --all --follow` processes are SIGKILLed at
/// random (seeded) moments while they work through the sample log in small batches. Once a last
/// child has caught up and stopped on SIGTERM, every view, the derived outbox and the KV stores' entries
/// equal those of a clean run.
///
/// `RUNNEL_CRASH_SEED=N` replays a run; `RUNNEL_CRASH_ROUNDS=N` runs more rounds (default 10).
@Suite struct PipelineCrashTests {
    static let views = ["member_profiles", "member_engagement_5m", "profile_views_by_industry_1h", "member_sessions"]

    static func loadedHome(_ label: String) throws -> (TemporaryHome, Store) {
        let temporary = try TemporaryHome(label: label)
        return (temporary, try temporary.openStoreWithSampleData(SampleCatalog.catalog))
    }

    static func snapshot(_ store: Store) throws -> [String: [String]] {
        try store.derived.read { db in
            var result: [String: [String]] = [:]
            for view in views {
                result[view] = try Row.fetchAll(db, sql: "SELECT * FROM \(view)").map { "\($0)" }.sorted()
            }
            // Derived events: the same set, each once (small batches close windows in another order).
            result["runnel_outbox"] = try Row.fetchAll(db, sql: "SELECT topic, key, type, payload, event_time FROM runnel_outbox").map { "\($0)" }.sorted()
            // KV stores' entries commit with the batch like view rows.
            result["runnel_kv_entries"] = try Row.fetchAll(db, sql: "SELECT store, hex(key) AS key, CAST(value AS TEXT) AS value FROM runnel_kv_entries").map { "\($0)" }.sorted()
            return result
        }
    }

    /// Records left for the catalog's pipelines, as of their last commits (nil before all ran).
    static func lag(_ store: Store) throws -> Int64? {
        try store.derived.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT lag_events FROM runnel_pipelines")
            guard rows.count == SamplePipelines.all.count else { return nil }
            return rows.reduce(0) { $0 + ($1["lag_events"] as Int64) }
        }
    }

    @Test func killedFollowersLeaveTheSameViewsAsACleanRun() throws {
        let schedule = CrashSchedule(defaultSeed: 20_261_123, defaultRounds: 10)
        let (seed, rounds) = (schedule.seed, schedule.rounds)
        var random = schedule.random

        let (cleanHome, clean) = try Self.loadedHome("pipeline-clean")
        defer { withExtendedLifetime(cleanHome) {} }
        for pipeline in SamplePipelines.all {
            _ = try PipelineRunner(pipeline: pipeline, store: clean).runToEnd()
        }
        let expected = try Self.snapshot(clean)

        let (temporary, store) = try Self.loadedHome("pipeline-crash")
        let home = temporary.home.url.path
        var killedMidway = 0
        for _ in 0..<rounds {
            let child = try ChildProcess.launch(["run", "--all", "--follow", "--batch-size", "\(1 + random.below(8))", "--home", home])
            usleep(UInt32(30_000 + random.below(250_000)))
            if try Self.lag(store).map({ $0 > 0 }) ?? true { killedMidway += 1 }
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
        }
        #expect(killedMidway > rounds / 2, "seed \(seed): the pipelines had caught up before most kills")

        let last = try ChildProcess.launch(["run", "--all", "--follow", "--home", home])
        // Give it time to install its signal handlers even when there is nothing left to do.
        usleep(1_000_000)
        let deadline = Date().addingTimeInterval(60)
        while try Self.lag(store) != 0, Date() < deadline { usleep(20_000) }
        kill(last.processIdentifier, SIGTERM)
        last.waitUntilExit()
        #expect(last.terminationReason == .exit && last.terminationStatus == 0, "seed \(seed)")

        let actual = try Self.snapshot(store)
        for (name, rows) in expected {
            let got = actual[name] ?? []
            let missing = Set(rows).subtracting(got), extra = Set(got).subtracting(rows)
            #expect(got == rows, "seed \(seed): \(name) has \(got.count) rows, a clean run \(rows.count); \(missing.count) missing, \(extra.count) extra, e.g. \(missing.first ?? extra.first ?? "duplicates")")
        }
        // The last child published on its way out: the same entries make the same file.
        for name in ["member-features", "member-headlines"] {
            let published = try KVStore.open(name, in: temporary.home).snapshot().manifest.sha256
            let clean = try KVStore.open(name, in: cleanHome.home).snapshot().manifest.sha256
            #expect(published == clean, "seed \(seed): kv/\(name) differs from a clean run's")
        }
    }

    @Test func aVersionMismatchIsRefusedFromTheCommandLineWithTheRebuildHint() async throws {
        let (temporary, store) = try Self.loadedHome("pipeline-version")
        try await store.derived.write { db in
            try db.execute(sql: """
                INSERT INTO runnel_pipelines (name, version, description, views, created_at, updated_at)
                VALUES ('member-engagement-5m', 99, 'old', 'member_engagement_5m', 0, 0)
                """)
        }
        let refused = await runnel("run", "member-engagement-5m", "--home", temporary.home.url.path)
        #expect(refused.status == 1)
        #expect(refused.error.contains("version 99"))
        #expect(refused.error.contains("runnel run member-engagement-5m --rebuild"))
        let rebuilt = await runnel("run", "member-engagement-5m", "--rebuild", "--home", temporary.home.url.path)
        #expect(rebuilt.status == 0)
        let rows = try await store.derived.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM member_engagement_5m") ?? 0 }
        #expect(rows > 0)
    }
}
