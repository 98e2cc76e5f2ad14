import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting
import Testing

/// Guarantee 6 with real processes: schedulers in separate processes share a home and each fire
/// time runs once; schedulers SIGKILLed mid-run leave every fire time recorded, their runs
/// found abandoned and retried by policy, and no job run twice.
///
/// The children are `runnel-fault-child`, whose catalog adds `probe-every-minute` to the
/// sample's: its job writes one row per execution to `schedule_probe`, so executions are counted
/// apart from the history the scheduler keeps.
///
/// `RUNNEL_CRASH_SEED=N` replays a run; `RUNNEL_CRASH_ROUNDS=N` runs more rounds (default 8).
@Suite struct ScheduleProcessTests {
    static let probe = "probe-every-minute"
    /// 2026-03-02 09:00:00 UTC.
    static let start = Date(timeIntervalSince1970: 1_772_442_000)

    static func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    /// Each fire time's history row, by entry, as `fire_time outcome attempts`.
    static func history(_ store: Store, _ entry: String) throws -> [(fire: Int64, outcome: String, attempts: Int)] {
        try store.app.read { db in
            try Row.fetchAll(db, sql: "SELECT fire_time, outcome, attempts FROM runnel_schedule_runs WHERE entry = ? ORDER BY fire_time", arguments: [entry])
                .map { ($0["fire_time"], $0["outcome"], $0["attempts"]) }
        }
    }

    /// How many times the probe's job ran for each fire time.
    static func executions(_ store: Store) throws -> [Int64: Int] {
        try store.app.read { db in
            guard try db.tableExists("schedule_probe") else { return [:] }
            return Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT fire_time, count(*) AS n FROM schedule_probe GROUP BY fire_time")
                .map { ($0["fire_time"], $0["n"]) })
        }
    }

    @Test func twoSchedulerProcessesRunEachFireTimeOnce() throws {
        let (temporary, store) = try PipelineCrashTests.loadedHome("schedule-two")
        let home = temporary.home.url.path
        let until = Self.start.addingTimeInterval(90 * 60)
        let arguments = ["schedule", "tick", "--at", Self.iso(Self.start), "--until", Self.iso(until), "--lease", "10", "--home", home]
        let first = try CrashChild(arguments)
        let second = try CrashChild(arguments)
        first.waitUntilExit()
        second.waitUntilExit()
        #expect(first.termination == "exit 0", "\(first.standardError.suffix(600))")
        #expect(second.termination == "exit 0", "\(second.standardError.suffix(600))")

        // Every minute from 09:00 to 10:30 ran exactly once, whichever process claimed it.
        let minutes = (0...90).map { Self.start.addingTimeInterval(Double($0) * 60).millisecondsSince1970 }
        let probe = try Self.history(store, Self.probe)
        #expect(probe.map(\.fire) == minutes)
        #expect(probe.allSatisfy { $0.outcome == "succeeded" && $0.attempts == 1 }, "\(probe.filter { $0.outcome != "succeeded" })")
        let ran = try Self.executions(store)
        #expect(ran.count == minutes.count && ran.values.allSatisfy { $0 == 1 }, "\(ran.filter { $0.value != 1 })")
        let pids = try store.app.read { try Int.fetchOne($0, sql: "SELECT count(DISTINCT pid) FROM schedule_probe") } ?? 0
        print("schedule two processes: probe runs made by \(pids) process(es)")

        // The sample's 5-minute entry: one row per fire time; a fire time that came while the
        // other process ran the previous one is skipped, as its overlap policy says.
        let pipelines = try Self.history(store, "pipelines-every-5m")
        #expect(pipelines.map(\.fire) == minutes.filter { ($0 / 60_000) % 5 == 0 })
        #expect(pipelines.allSatisfy { $0.outcome == "succeeded" || $0.outcome == "skipped" })
        #expect(pipelines.first?.outcome == "succeeded")
    }

    @Test func killedSchedulersLeaveEveryFireTimeRecordedAndNoJobRunTwice() throws {
        let schedule = CrashSchedule(defaultSeed: 20_261_206, defaultRounds: 8)
        let (seed, rounds) = (schedule.seed, schedule.rounds)
        var random = schedule.random
        let (temporary, store) = try PipelineCrashTests.loadedHome("schedule-crash")
        let home = temporary.home.url.path
        let lease = 0.3
        let pause = (variable: "RUNNEL_FAULT_SCHEDULE_JOB_PAUSE_US", moment: "schedule-claimed-before-job")

        var kills = 0, killedMidRun = 0
        var instant = Self.start
        for round in 0..<rounds {
            // Each round ticks the next minute; a round may also retry what an earlier kill abandoned.
            instant = instant.addingTimeInterval(60)
            let child = try CrashChild(["schedule", "tick", "--at", Self.iso(instant), "--lease", "\(lease)", "--home", home],
                                       environment: [pause.variable: "400000"])
            let kill = random.below(10) < 7
            if kill {
                let reached = child.waitForLine(FaultPauses.pausingLine(pause.moment), timeout: 120)
                #expect(reached, "seed \(seed) round \(round): the child never started a job: \(child.standardError.suffix(400))")
                usleep(UInt32(random.below(300_000)))
                child.kill()
                kills += 1
                #expect(child.diedOfSIGKILL, "seed \(seed) round \(round): the child ended with \(child.termination), not SIGKILL")
                // Proof the kill landed mid-run: the child's claim is still `running` in the ledger.
                let running = try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_schedule_runs WHERE outcome = 'running' AND pid = ?", arguments: [child.process.processIdentifier]) } ?? 0
                if running > 0 { killedMidRun += 1 }
                print("schedule crash seed \(seed) round \(round): killed \(running > 0 ? "mid-run" : "outside a run") at \(Self.iso(instant))")
            } else {
                child.waitUntilExit()
                #expect(child.termination == "exit 0", "seed \(seed) round \(round): \(child.standardError.suffix(400))")
            }
            // Leases lapse before the next round, so its claim finds the dead child's runs abandoned.
            usleep(UInt32(lease * 1_000_000) + 50_000)
        }

        // A last, unharmed scheduler retries what is left, as the entries' policies say.
        let last = try CrashChild(["schedule", "tick", "--at", Self.iso(instant), "--lease", "\(lease)", "--home", home])
        last.waitUntilExit()
        #expect(last.termination == "exit 0", "\(last.standardError.suffix(600))")

        let minutes = (1...rounds).map { Self.start.addingTimeInterval(Double($0) * 60).millisecondsSince1970 }
        let probe = try Self.history(store, Self.probe)
        #expect(probe.map(\.fire) == minutes, "seed \(seed): a fire time is missing from the history")
        let ran = try Self.executions(store)
        for row in probe {
            switch row.outcome {
            case "succeeded":
                #expect(ran[row.fire] == 1, "seed \(seed): fire time \(row.fire) succeeded with \(ran[row.fire] ?? 0) executions")
            case "abandoned":
                // Killed on every attempt it was allowed: never run, never half-recorded.
                #expect(row.attempts == 3 && ran[row.fire] == nil, "seed \(seed): \(row)")
            default:
                Issue.record("seed \(seed): fire time \(row.fire) ended \(row.outcome)")
            }
        }
        let open = try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_schedule_runs WHERE outcome IN ('running', 'queued')") } ?? 0
        #expect(open == 0, "seed \(seed): runs left running or queued")
        #expect(kills > 0 && killedMidRun == kills, "seed \(seed): \(killedMidRun) of \(kills) kills landed while a run was claimed")
    }

    @Test func scheduleRunStopsCleanlyOnSIGTERM() throws {
        let temporary = try TemporaryHome(label: "schedule-run")
        _ = try temporary.openStore(migrations: SampleCatalog.catalog.migrations)
        let child = try CrashChild(["schedule", "run", "--home", temporary.home.url.path])
        #expect(child.waitForLine("until SIGTERM", timeout: 120), "\(child.standardError.suffix(400))")
        usleep(300_000)   // asleep until the next fire time
        let start = ContinuousClock.now
        child.kill(SIGTERM)
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(child.termination == "exit 0", "\(child.standardError.suffix(400))")
    }

    @Test func aTickOfAnInstantStillToComeIsRefused() async throws {
        let temporary = try TemporaryHome(label: "schedule-future")
        let result = await runnel("schedule", "tick", "--at", Self.iso(Date().addingTimeInterval(3_600)), "--home", temporary.home.url.path)
        #expect(result.status == 1)
        #expect(result.error.contains("is in the future"), "\(result.error)")
    }
}
