import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

/// Invariant 4 under real crashes: child `runnel kv publish` processes are SIGKILLed while they
/// build a 150,000-key version. After every kill the store serves either the previous version
/// or the complete new one, every value of it from one build, and every version in the folder
/// passes a full check: no partial version is ever visible.
///
/// Odd rounds kill at a random moment of the build itself (timed from the child's own build folder
/// appearing, so a slow start under load does not eat the range); even rounds aim at the build's fault pause
/// between renaming its folder to `vN` and switching `CURRENT`, where the new version is in
/// place but must not be served yet. Each round proves the child died of SIGKILL and says what
/// it interrupted, judged by the child's own traces only (its `.build-N-<pid>` folder, its
/// pause): a build folder an earlier child left never counts.
///
/// `RUNNEL_CRASH_SEED=N` replays a run; `RUNNEL_CRASH_ROUNDS=N` runs more rounds (default 8).
@Suite struct KVBuildCrashTests {
    static let keys = 150_000

    /// Sets every staged value to `round-N:<key>:<padding>`, as a pipeline's batches would.
    static func stage(round: Int, in store: Store) throws {
        try store.derived.write { db in
            try db.execute(sql: """
                UPDATE runnel_kv_entries SET value = CAST(printf('round-%d:%s:%060d', ?, CAST(key AS TEXT), 0) AS BLOB) WHERE store = 'crash'
                """, arguments: [round])
        }
    }

    /// The round whose values the store serves, checking that a sample of keys all agree.
    static func servedRound(_ folder: KVStoreFolder, random: inout SeededGenerator) throws -> (version: Int, round: Int) {
        let snapshot = try KVStore(folder: folder).snapshot()
        #expect(snapshot.keyCount == keys)
        var rounds = Set<Int>()
        for _ in 0..<300 {
            let key = "key-\(random.below(keys))"
            let value = String(decoding: try #require(try snapshot.get(key)), as: UTF8.self)
            let parts = value.split(separator: ":")
            #expect(parts.count == 3 && parts[1] == key, "a torn value: \(value.prefix(60))")
            rounds.insert(Int(parts[0].dropFirst("round-".count)) ?? -1)
        }
        #expect(rounds.count == 1, "values from several builds in one version: \(rounds.sorted())")
        return (snapshot.version, rounds.first ?? -1)
    }

    /// When the child `process`'s own `.build-N-<pid>` folder appeared, polled every millisecond; nil
    /// when the child ended first or two minutes passed.
    static func waitForBuildFolder(of process: Process, in folder: KVStoreFolder) -> Date? {
        let pid = process.processIdentifier
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.url.path)) ?? []
            if names.contains(where: { $0.hasPrefix(".build-") && $0.hasSuffix("-\(pid)") }) { return Date() }
            if !process.isRunning { return nil }
            usleep(1_000)
        }
        return nil
    }

    @Test func killedBuildsLeaveThePreviousVersionServing() throws {
        let schedule = CrashSchedule(defaultSeed: 20_261_124, defaultRounds: 8)
        let (seed, rounds) = (schedule.seed, schedule.rounds)
        var random = schedule.random

        let temporary = try TemporaryHome(label: "kv-crash")
        let store = try temporary.openStore()
        try store.derived.write { db in
            try db.execute(sql: "INSERT INTO runnel_kv_stores (name, pipeline, keep) VALUES ('crash', 'crash-test', 3)")
            try db.execute(sql: """
                WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
                INSERT INTO runnel_kv_entries (store, key, value) SELECT 'crash', CAST('key-' || i AS BLOB), X'' FROM n
                """, arguments: [Self.keys])
        }
        try Self.stage(round: 0, in: store)
        let folder = try KVStoreFolder(home: temporary.home, name: "crash")
        let home = temporary.home.url.path

        // A whole child publish sets the range the kills are drawn from: the time from its build
        // folder appearing to its exit. Process start and opening the store are not in it, as
        // they vary most when the machine is loaded.
        let whole = try ChildProcess.launch(["kv", "publish", "crash", "--home", home])
        let buildStarted = Self.waitForBuildFolder(of: whole, in: folder) ?? Date()
        whole.waitUntilExit()
        #expect(whole.terminationStatus == 0)
        let duration = max(0.01, Date().timeIntervalSince(buildStarted))
        #expect(try Self.servedRound(folder, random: &random) == (1, 0))

        var serving = (version: 1, round: 0)
        var killedMidBuild = 0
        var killedBeforeSwitch = 0
        let switchPause = (variable: "RUNNEL_FAULT_KV_PAUSE_BEFORE_CURRENT_US", moment: "kv-after-rename-before-current")
        for round in 1...rounds {
            try Self.stage(round: round, in: store)
            let aimAtSwitch = round % 2 == 0
            let currentBefore = try folder.currentVersion()
            let child = try CrashChild(["kv", "publish", "crash", "--home", home],
                                       environment: aimAtSwitch ? [switchPause.variable: "2000000"] : [:])
            if aimAtSwitch {
                let reached = child.waitForLine(FaultPauses.pausingLine(switchPause.moment), timeout: 120)
                #expect(reached, "seed \(seed) round \(round): the build never paused before its CURRENT switch: \(child.standardError.suffix(400))")
                usleep(UInt32(random.below(200_000)))
            } else {
                let started = Self.waitForBuildFolder(of: child.process, in: folder)
                #expect(started != nil || !child.process.isRunning, "seed \(seed) round \(round): no build folder appeared: \(child.standardError.suffix(400))")
                usleep(UInt32(duration * 1_000_000 * (0.1 + 0.7 * Double(random.below(1_000)) / 1_000)))
            }
            child.kill()
            // An aimed kill must land in its pause. A kill at a random moment may come after a
            // build that ran faster than the timed one: that round is reported and not counted
            // as mid-build (the count below still has to be reached), but a child that ended any
            // other way than exit 0 or SIGKILL fails.
            let finishedFirst = !aimAtSwitch && !child.diedOfSIGKILL && child.termination == "exit 0"
            #expect(child.diedOfSIGKILL || finishedFirst, "seed \(seed) round \(round): the publish ended with \(child.termination), not SIGKILL")

            // What the kill interrupted, from this child's own traces only.
            let names = try FileManager.default.contentsOfDirectory(atPath: folder.url.path)
            let ownBuild = names.first { $0.hasPrefix(".build-") && $0.hasSuffix("-\(child.process.processIdentifier)") }
            let currentAfter = try folder.currentVersion()
            let phase: String
            if let ownBuild {
                // Started (its folder exists) and not finished (CURRENT unchanged).
                #expect(currentAfter == currentBefore, "seed \(seed) round \(round): CURRENT moved while \(ownBuild) was still being written")
                killedMidBuild += 1
                phase = "mid-build (\(ownBuild) being written)"
            } else if child.interruptedPause == switchPause.moment {
                // Renamed into place, not switched to: the new version exists, CURRENT still names the old one.
                let newest = try folder.versionNumbers().last ?? 0
                #expect(newest > (currentBefore ?? 0) && currentAfter == currentBefore,
                        "seed \(seed) round \(round): paused before the switch with v\(newest) in place and CURRENT \(currentBefore ?? 0) -> \(currentAfter ?? 0)")
                killedBeforeSwitch += 1
                phase = "after the rename to v\(newest), before the CURRENT switch"
            } else if finishedFirst {
                #expect(currentAfter != currentBefore, "seed \(seed) round \(round): the publish exited 0 without switching CURRENT")
                phase = "too late: the build had finished (exit 0; not counted)"
            } else {
                phase = currentAfter == currentBefore ? "before the build folder existed" : "after the CURRENT switch"
            }
            print("kv build crash seed \(seed) round \(round): killed \(phase); CURRENT v\(currentBefore ?? 0) -> v\(currentAfter ?? 0)")

            let now = try Self.servedRound(folder, random: &random)
            if now.version == serving.version {
                #expect(now.round == serving.round, "seed \(seed) round \(round): v\(now.version) changed its answers")
            } else {
                #expect(now.version > serving.version && now.round == round,
                        "seed \(seed) round \(round): serving v\(now.version) with round \(now.round) values, before v\(serving.version) with round \(serving.round)")
            }
            serving = now
            for number in try folder.versionNumbers() {
                #expect(throws: Never.self, "seed \(seed) round \(round): v\(number) is visible but damaged") {
                    try folder.open(version: number, verification: .atOpen)
                }
            }
        }
        #expect(killedMidBuild >= max(1, rounds / 4), "seed \(seed): only \(killedMidBuild) of \(rounds) kills landed while the child's own build folder was written")
        #expect(killedBeforeSwitch == rounds / 2, "seed \(seed): only \(killedBeforeSwitch) of \(rounds / 2) aimed kills landed between the rename and the CURRENT switch")

        // The next publish clears what the killed builds left and serves the last round.
        let manifest = try #require(try KVPublisher.publish("crash", from: store))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).allSatisfy { !$0.hasPrefix(".build-") })
        #expect(try Self.servedRound(folder, random: &random) == (manifest.version, rounds))
    }
}
