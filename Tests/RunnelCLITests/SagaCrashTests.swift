import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting
import Testing

/// Guarantees 5 and 8 under real crashes: a child `runnel run <every handler and saga> --follow`
/// is SIGKILLed again and again while the sample loads and a relay follows. After a last child
/// has drained everything, every saga instance is `completed` or `compensated`, as many of each
/// as in a clean run, and the business tables the handlers write hold each command's and each
/// compensation's effect exactly once: the same rows as a clean run, counted in SQL.
///
/// Odd rounds aim the kill at a pause inside a handler's or a coordinator's transaction, after
/// its business rows, replies or commands and offsets are written and before the commit; the
/// child's own announcement of the pause proves the kill landed there. Even rounds kill at a
/// random moment after the child's first commit of the round, and count as mid-work when the
/// committed offsets moved during the round and work was left. A round that would start with
/// nothing left to do (a fast machine finished the sample) is not run.
///
/// `RUNNEL_CRASH_SEED=N` replays a run; `RUNNEL_CRASH_ROUNDS=N` runs more rounds (default 8).
@Suite struct SagaCrashTests {
    static let catalog = SampleCatalog.catalog
    /// What the children run: every handler and every saga of the sample.
    static var names: [String] { catalog.handlers.map(\.name) + catalog.sagas.map(\.name) }

    /// How far every handler and coordinator has read, summed: a number only a commit moves.
    static func committedOffsets(_ store: Store) throws -> Int64 {
        try store.app.read { try Int64.fetchOne($0, sql: "SELECT coalesce(sum(next_offset), 0) FROM runnel_consumer_offsets") ?? 0 }
    }

    /// Instances not finished yet, and instances in all.
    static func instances(_ store: Store) throws -> (unfinished: Int, all: Int) {
        try store.app.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_sagas WHERE state NOT IN ('completed', 'compensated')") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_sagas") ?? 0)
        }
    }

    static func outcomes(_ store: Store) throws -> [String] {
        try store.app.read { db in
            try Row.fetchAll(db, sql: "SELECT saga, state, count(*) AS n FROM runnel_sagas GROUP BY saga, state ORDER BY saga, state").map { "\($0)" }
        }
    }

    /// Every business table's rows, without the columns that differ between runs by nature:
    /// times (`at`, `…_at`) and row ids handed out in processing order (`AUTOINCREMENT`).
    static func businessRows(_ store: Store) throws -> [String: [String]] {
        try store.app.read { db in
            var result: [String: [String]] = [:]
            let tables = try Row.fetchAll(db, sql: """
                SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'runnel_%' AND name NOT LIKE 'sqlite_%' ORDER BY name
                """)
            for row in tables {
                let table: String = row["name"]
                let counter = (row["sql"] as String? ?? "").uppercased().contains("AUTOINCREMENT")
                let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(\(SQLIdentifier.quoted(table)))")
                let rowID = counter ? columns.first { ($0["pk"] as Int) == 1 }.map { $0["name"] as String } : nil
                let kept = columns.map { $0["name"] as String }.filter { $0 != "at" && !$0.hasSuffix("_at") && $0 != rowID }
                let list = kept.map(SQLIdentifier.quoted).joined(separator: ", ")
                result[table] = try Row.fetchAll(db, sql: "SELECT \(list) FROM \(SQLIdentifier.quoted(table))").map { "\($0)" }.sorted()
            }
            return result
        }
    }

    /// A clean run: the sample loaded and relayed, then relay, handlers and coordinators in
    /// turn until none has anything to do.
    static func cleanRun() throws -> (TemporaryHome, Store) {
        let temporary = try TemporaryHome(label: "saga-clean")
        let store = try temporary.openStoreWithSampleData(catalog)
        let log = try Log.open(temporary.home.logURL)
        defer { try? log.close() }
        try SagaDrain(relay: OutboxRelay(store: store, log: log), handlers: catalog.handlers, sagas: catalog.sagas).run()
        return (temporary, store)
    }

    @Test func killedHandlersAndCoordinatorsApplyEachEffectOnce() throws {
        #expect(!Self.catalog.sagas.isEmpty && !Self.catalog.handlers.isEmpty, "the sample catalog has no sagas or handlers to crash")
        let schedule = CrashSchedule(defaultSeed: 20_261_206, defaultRounds: 8)
        let (seed, rounds) = (schedule.seed, schedule.rounds)
        var random = schedule.random

        let (cleanHome, clean) = try Self.cleanRun()
        defer { withExtendedLifetime(cleanHome) {} }
        let expectedRows = try Self.businessRows(clean)
        let expectedOutcomes = try Self.outcomes(clean)
        let expectedInstances = try Self.instances(clean)
        #expect(expectedInstances.unfinished == 0 && expectedInstances.all > 0, "the clean run left \(expectedInstances) instances unfinished")

        // The crash run's home: migrated, the sample not loaded yet.
        let temporary = try TemporaryHome(label: "saga-crash")
        let store = try temporary.openStore(migrations: Self.catalog.migrations)
        let home = temporary.home.url.path
        let relayErrors = temporary.folder.appendingPathComponent("relay.err")
        let relay = try ChildProcess.launch(["relay", "--follow", "--home", home], standardErrorTo: relayErrors)
        let loadErrors = temporary.folder.appendingPathComponent("load.err")
        let loader = try ChildProcess.launch(["sample", "load", "--home", home], standardErrorTo: loadErrors)

        let pauses = [("RUNNEL_FAULT_HANDLER_PAUSE_US", "handler-before-commit"), ("RUNNEL_FAULT_SAGA_PAUSE_US", "saga-before-commit")]
        var aimedLanded = 0, aimed = 0, randomLanded = 0, randomWithWork = 0
        /// Whether a child started now would find work: records to load, relay or consume.
        func workLeft() throws -> Bool {
            guard !loader.isRunning, try Self.instances(store).unfinished == 0 else { return true }
            return try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") ?? 0 } > 0
        }
        for round in 0..<rounds {
            let before = try Self.committedOffsets(store)
            let batchSize = 1 + random.below(20)
            let pause = round % 2 == 1 ? pauses[(round / 2) % 2] : nil
            // A fast machine may finish the sample before the rounds are over: a child with
            // nothing to do reaches no pause and commits nothing, so such rounds are not run.
            guard try workLeft() else {
                print("SagaCrashTests seed \(seed) round \(round): nothing left to do (not run)")
                continue
            }
            let child = try CrashChild(["run"] + Self.names + ["--follow", "--batch-size", "\(batchSize)", "--home", home],
                                       environment: pause.map { [$0.0: "2000000"] } ?? [:])
            var what: String
            if let pause {
                aimed += 1
                let reached = child.waitForLine(FaultPauses.pausingLine(pause.1), timeout: 60)
                usleep(UInt32(random.below(100_000)))
                child.kill()
                let landed = reached && child.diedOfSIGKILL && child.interruptedPause == pause.1
                if landed { aimedLanded += 1 }
                what = landed ? "inside a transaction, at \(pause.1)" : "not at \(pause.1) (\(child.termination)): \(child.standardError.suffix(300))"
            } else {
                // The moment counts from the round's first commit, so a slow start does not
                // turn the round into a kill of a child that had not begun.
                let deadline = Date().addingTimeInterval(60)
                while try Self.committedOffsets(store) == before, child.process.isRunning, Date() < deadline { usleep(2_000) }
                usleep(UInt32(random.below(60_000)))
                child.kill()
                let after = try Self.committedOffsets(store)
                let left = try Self.instances(store).unfinished > 0 || loader.isRunning
                if left { randomWithWork += 1 }
                let landed = child.diedOfSIGKILL && after > before && left
                if landed { randomLanded += 1 }
                what = !child.diedOfSIGKILL ? "not by SIGKILL (\(child.termination))"
                    : !left ? "everything was done (not counted)" : after == before ? "nothing was committed" : "mid-work"
            }
            #expect(child.diedOfSIGKILL, "seed \(seed) round \(round): the child ended with \(child.termination): \(child.standardError.suffix(400))")
            print("SagaCrashTests seed \(seed) round \(round): batch size \(batchSize), killed \(what); offsets \(before) -> \(try Self.committedOffsets(store))")
        }
        #expect(aimed > 0 && aimedLanded == aimed, "seed \(seed): only \(aimedLanded) of \(aimed) aimed kills landed inside a transaction")
        #expect(randomWithWork > 0 && randomLanded * 2 >= randomWithWork,
                "seed \(seed): only \(randomLanded) of \(randomWithWork) random kills with work left landed mid-work")

        loader.waitUntilExit()
        #expect(loader.terminationStatus == 0, "seed \(seed): the sample load failed: \(ChildProcess.text(of: loadErrors))")

        // A last child drains everything and stops on SIGTERM.
        let lastErrors = temporary.folder.appendingPathComponent("last.err")
        let last = try ChildProcess.launch(["run"] + Self.names + ["--follow", "--home", home], standardErrorTo: lastErrors)
        let deadline = Date().addingTimeInterval(180)
        while Date() < deadline, last.isRunning {
            let now = try Self.instances(store)
            let pending = try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") ?? 0 }
            if now.all == expectedInstances.all, now.unfinished == 0, pending == 0 { break }
            usleep(50_000)
        }
        usleep(500_000)
        kill(last.processIdentifier, SIGTERM)
        kill(relay.processIdentifier, SIGTERM)
        last.waitUntilExit()
        relay.waitUntilExit()
        #expect(last.terminationReason == .exit && last.terminationStatus == 0, "seed \(seed): \(ChildProcess.text(of: lastErrors).suffix(600))")
        #expect(relay.terminationReason == .exit && relay.terminationStatus == 0, "seed \(seed): \(ChildProcess.text(of: relayErrors).suffix(600))")

        let finished = try Self.instances(store)
        #expect(finished.unfinished == 0 && finished.all == expectedInstances.all,
                "seed \(seed): \(finished.unfinished) of \(finished.all) instances unfinished (a clean run has \(expectedInstances.all), all finished)")
        #expect(try Self.outcomes(store) == expectedOutcomes, "seed \(seed): outcomes differ from a clean run's")
        let rows = try Self.businessRows(store)
        for (table, expected) in expectedRows {
            let got = rows[table] ?? []
            let missing = Set(expected).subtracting(got), extra = Set(got).subtracting(expected)
            #expect(got == expected, "seed \(seed): \(table) has \(got.count) rows, a clean run \(expected.count); \(missing.count) missing, \(extra.count) extra, e.g. \(missing.first ?? extra.first ?? "a row twice")")
        }
        let dead = try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_consumer_dead_letters") ?? 0 }
        #expect(dead == 0, "seed \(seed): \(dead) records in runnel_consumer_dead_letters")
    }
}
