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
/// Each round proves its kill landed mid-work: the child died of SIGKILL, and the committed
/// offsets grew during the round yet stayed short of the log's end. Every round prints what the
/// kill interrupted; the test fails when fewer than half the rounds land mid-work (a child that
/// did nothing, or had caught up, proves nothing). Rounds of a long soak that start with
/// everything read are reported and not counted.
///
/// `RUNNEL_CRASH_SEED=N` replays a run; `RUNNEL_CRASH_ROUNDS=N` runs more rounds (default 10).
@Suite struct PipelineCrashTests {
    static let views = ["member_profiles", "member_engagement_5m", "profile_views_by_industry_1h", "member_sessions",
                        "exception_tickets", "exception_ticket_hours", "exception_ticket_levels", "exception_ticket_hosts", "exception_ticket_changes"]

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

    /// The committed offsets of every pipeline, summed over their input partitions: how far
    /// the pipelines have got, as a number that only a commit moves.
    static func committedOffsets(_ store: Store) throws -> Int64 {
        try store.derived.read { try Int64.fetchOne($0, sql: "SELECT coalesce(sum(next_offset), 0) FROM runnel_pipeline_offsets") ?? 0 }
    }

    @Test func killedFollowersLeaveTheSameViewsAsACleanRun() throws {
        let schedule = CrashSchedule(defaultSeed: 20_261_123, defaultRounds: 10)
        let (seed, rounds) = (schedule.seed, schedule.rounds)
        var random = schedule.random

        let (cleanHome, clean) = try Self.loadedHome("pipeline-clean")
        defer { withExtendedLifetime(cleanHome) {} }
        // What `run --all` runs: the sample pipelines and the tickets pipeline.
        for pipeline in SampleCatalog.catalog.pipelines {
            _ = try PipelineRunner(pipeline: pipeline, store: clean).runToEnd()
        }
        let expected = try Self.snapshot(clean)
        // The clean run read every input partition of every pipeline to the log's end (the
        // same log: the same sample data, relayed the same way).
        let end = try Self.committedOffsets(clean)

        let (temporary, store) = try Self.loadedHome("pipeline-crash")
        let home = temporary.home.url.path
        var midWork = 0, withWorkLeft = 0
        for round in 0..<rounds {
            let before = try Self.committedOffsets(store)
            let batchSize = 1 + random.below(8), delay = random.below(150_000)
            let errors = temporary.folder.appendingPathComponent("round-\(round).err")
            let child = try ChildProcess.launch(["run", "--all", "--follow", "--batch-size", "\(batchSize)", "--home", home], standardErrorTo: errors)
            // The seeded moment counts from the round's first commit, so a slow start on a
            // busy machine does not turn rounds into kills of a child that had not begun.
            let deadline = Date().addingTimeInterval(60)
            while before < end, try Self.committedOffsets(store) == before, child.isRunning, Date() < deadline { usleep(2_000) }
            usleep(UInt32(delay))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            let after = try Self.committedOffsets(store)
            let killed = child.terminationReason == .uncaughtSignal && child.terminationStatus == SIGKILL
            let landed = killed && before < after && after < end
            if landed { midWork += 1 }
            // A long soak (RUNNEL_CRASH_ROUNDS) outlasts the work: rounds that start caught up
            // cannot land mid-work and are not counted.
            if before < end { withWorkLeft += 1 }
            let what = !killed ? "the child was not killed by SIGKILL (\(child.terminationReason == .exit ? "exit" : "signal") \(child.terminationStatus))"
                : before >= end ? "nothing was left to do (not counted)"
                : after >= end ? "the pipelines had caught up" : after == before ? "nothing was committed" : "killed mid-work"
            print("PipelineCrashTests seed \(seed) round \(round): batch size \(batchSize), killed \(delay / 1_000) ms after the first commit; offsets \(before) -> \(after) of \(end): \(what)")
            #expect(killed, "seed \(seed) round \(round): \(what); its stderr: \(ChildProcess.text(of: errors))")
        }
        #expect(withWorkLeft > 0 && midWork * 2 >= withWorkLeft,
                "seed \(seed): only \(midWork) of \(withWorkLeft) kills with work left landed mid-work (see the rounds printed above)")

        let lastErrors = temporary.folder.appendingPathComponent("last.err")
        let last = try ChildProcess.launch(["run", "--all", "--follow", "--home", home], standardErrorTo: lastErrors)
        // Give it time to install its signal handlers even when there is nothing left to do.
        usleep(1_000_000)
        let deadline = Date().addingTimeInterval(60)
        while try Self.committedOffsets(store) < end, last.isRunning, Date() < deadline { usleep(20_000) }
        kill(last.processIdentifier, SIGTERM)
        last.waitUntilExit()
        #expect(last.terminationReason == .exit && last.terminationStatus == 0, "seed \(seed): \(ChildProcess.text(of: lastErrors))")
        #expect(try Self.committedOffsets(store) == end, "seed \(seed): the last child stopped before the log's end")

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
                INSERT INTO runnel_pipelines (name, version, description, created_at, updated_at)
                VALUES ('member-engagement-5m', 99, 'old', 0, 0);
                INSERT INTO runnel_view_owners (view, pipeline) VALUES ('member_engagement_5m', 'member-engagement-5m');
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
