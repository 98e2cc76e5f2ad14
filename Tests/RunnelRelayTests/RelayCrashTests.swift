import Foundation
import GRDB
@testable import Runnel
import RunnelTesting
import Testing

/// Invariant 2 under real crashes: a child `runnel relay --follow` is SIGKILLed while writers
/// keep committing to both outboxes. After a final drain every committed row is in the log
/// exactly once, and rows with the same key are in commit order.
///
/// The rounds take turns aiming at the two moments where a cycle is half done (the relay's
/// fault pauses): after some partitions' batches are appended and before the others are, and
/// after the append and fsync but before the delete; every third round kills at a random moment.
/// Each round proves the child died of SIGKILL with the log grown and rows still pending, and
/// prints what the kill interrupted; a restarted relay must be seen skipping rows already in
/// the log. `RUNNEL_CRASH_SEED=N` replays a run; `RUNNEL_CRASH_ROUNDS=N` runs more rounds (default 20).
@Suite struct RelayCrashTests {
    static let partitionPause = (variable: "RUNNEL_FAULT_RELAY_PARTITION_PAUSE_US", moment: "relay-between-partition-appends")
    static let deletePause = (variable: "RUNNEL_FAULT_RELAY_PAUSE_US", moment: "relay-after-append-before-delete")
    static let skipLine = "skipped outbox rows already in the log from an interrupted run"

    /// Records in the log, over every topic and partition.
    static func recordsInLog(_ home: RunnelHome) throws -> Int64 {
        guard FileManager.default.fileExists(atPath: home.logURL.path) else { return 0 }
        let log = try Log.openForReading(home.logURL)
        var total: Int64 = 0
        for name in log.topicNames {
            guard let topic = try log.topic(name) else { continue }
            for partition in topic.partitions {
                try partition.refresh()
                total += partition.endOffset - partition.startOffset
            }
        }
        return total
    }

    static func pendingRows(_ store: Store) throws -> Int {
        try DatabaseRole.allCases.reduce(0) { sum, role in
            sum + (try store.database(role).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") } ?? 0)
        }
    }

    @Test func killedRelaysLoseAndDuplicateNothingAndKeepKeyOrder() throws {
        let schedule = CrashSchedule(defaultSeed: 20_261_124, defaultRounds: 20)
        let (seed, rounds) = (schedule.seed, schedule.rounds)
        var random = schedule.random
        let temporary = try TemporaryHome(label: "relay-crash")
        let store = try temporary.openStore()
        let home = temporary.home.url.path

        let writer = OutboxWriter(store: store)
        writer.start()
        var interrupted: [String: Int] = [:]
        var skips = 0
        for round in 0..<rounds {
            let aim = [Self.deletePause, Self.partitionPause, nil][round % 3]
            let pause = 100_000 + random.below(100_000)
            var environment = ["RUNNEL_LOG_LEVEL": "notice"]
            if let aim { environment[aim.variable] = String(pause) }
            let logBefore = try Self.recordsInLog(temporary.home)
            let relay = try CrashChild(["relay", "--follow", "--partitions", "3", "--batch-size", "\(50 + random.below(400))", "--home", home],
                                       environment: environment)
            // Aimed: kill inside the pause, the cycle half done.
            let reached = relay.kill(at: aim?.moment, pauseMicroseconds: pause, orAfter: 40_000..<290_000, random: &random)
            #expect(reached, "seed \(seed) round \(round): the relay never paused at \(aim?.moment ?? ""): \(relay.standardError.suffix(400))")
            #expect(relay.diedOfSIGKILL, "seed \(seed) round \(round): the relay ended with \(relay.termination), not SIGKILL: \(relay.standardError.suffix(400))")
            let phase = relay.interruptedPause ?? "a moment outside the pauses (a cycle or the wait for commits)"
            let logAfter = try Self.recordsInLog(temporary.home)
            let pending = try Self.pendingRows(store)
            let skipped = relay.count(Self.skipLine)
            if let aim {
                #expect(relay.interruptedPause == aim.moment, "seed \(seed) round \(round): the kill missed \(aim.moment)")
                // Strictly mid-cycle: this child appended records (or found its cycle's rows already
                // there), and the rows of its cycle are still pending.
                #expect((logAfter > logBefore || skipped > 0) && pending > 0,
                        "seed \(seed) round \(round): killed at \(aim.moment) with the log at \(logBefore) -> \(logAfter) records and \(pending) rows pending")
            }
            interrupted[phase, default: 0] += 1
            skips += skipped
            print("relay crash seed \(seed) round \(round): killed at \(phase); log \(logBefore) -> \(logAfter) records, \(pending) rows pending, "
                  + "\(skipped) skip\(skipped == 1 ? "" : "s") of rows already in the log")
        }
        writer.stop()
        #expect(writer.error == nil, "the writer failed: \(String(describing: writer.error))")

        let (drain, summary) = try CrashChild.runToEnd(["relay", "--home", home], environment: ["RUNNEL_LOG_LEVEL": "notice"])
        #expect(drain.process.terminationStatus == 0, "seed \(seed): \(drain.standardError.suffix(400))")
        skips += drain.count(Self.skipLine)
        print("relay crash seed \(seed): \(rounds) rounds, kills at \(interrupted.killTally); "
              + "restarts skipped rows already in the log \(skips) times; final drain: \(summary)")
        let aimedRounds = (0..<rounds).filter { $0 % 3 != 2 }.count
        #expect((interrupted[Self.deletePause.moment] ?? 0) + (interrupted[Self.partitionPause.moment] ?? 0) == aimedRounds,
                "seed \(seed): too few kills landed mid-cycle")
        // The skip is what keeps a restart from appending an interrupted cycle twice: it must be
        // seen working, not only be there.
        #expect(skips > 0, "seed \(seed): no restarted relay skipped rows already in the log; the rounds proved nothing about duplicates")

        let log = try Log.openForReading(temporary.home.logURL)
        let committed = writer.count
        var seen: [Int] = []
        for topic in ["notes", "derived-notes"] {
            let all = try records(in: log, topic: topic)
            seen += try all.map(sequence)
            // Per key, within its partition, commit order.
            var lastByKey: [[UInt8]: Int] = [:]
            for record in all {
                let next = try sequence(of: record)
                if let previous = lastByKey[record.key!] {
                    #expect(previous < next, "seed \(seed): key \(String(decoding: record.key!, as: UTF8.self)) out of order")
                }
                lastByKey[record.key!] = next
            }
        }
        #expect(seen.count == committed, "seed \(seed): \(seen.count) records for \(committed) committed rows")
        #expect(seen.sorted() == Array(0..<committed), "seed \(seed): lost or duplicated rows")
        #expect(try Self.pendingRows(store) == 0)
    }

    /// SIGTERM while a batch is in flight (appended and fsynced, not yet deleted): the relay
    /// finishes that batch, stops before the next, exits 0 and closes the log cleanly; nothing
    /// is lost or doubled, and the next run relays the rest without skipping anything.
    @Test func sigtermMidBatchFinishesTheBatchInHandAndExitsZero() throws {
        let temporary = try TemporaryHome(label: "relay-term")
        let store = try temporary.openStore()
        try commit(500, to: store)
        let relay = try CrashChild(["relay", "--follow", "--batch-size", "100", "--home", temporary.home.url.path],
                                   environment: [Self.deletePause.variable: "1000000"])
        try #require(relay.waitForLine(FaultPauses.pausingLine(Self.deletePause.moment)), "\(relay.standardError.suffix(400))")
        // The first batch is in the log and still in the outbox: the signal lands mid-batch.
        #expect(try Self.pendingRows(store) == 500)
        #expect(try Self.recordsInLog(temporary.home) == 100)
        relay.kill(SIGTERM)
        #expect(relay.process.terminationReason == .exit)
        #expect(relay.process.terminationStatus == 0, "\(relay.standardError.suffix(400))")
        #expect(relay.interruptedPause == nil, "the relay exited inside its pause instead of finishing the batch")

        let relayed = try records(in: Log.openForReading(temporary.home.logURL), topic: "notes").map(sequence).sorted()
        let pending = try Self.pendingRows(store)
        // Whole batches only, each deleted once relayed, and it stopped before the backlog ran out.
        #expect(relayed == Array(0..<relayed.count))
        #expect(relayed.count + pending == 500)
        #expect(relayed.count >= 100 && relayed.count < 500 && relayed.count % 100 == 0, "\(relayed.count) relayed")
        // A clean stop leaves the marker: the next open scans nothing.
        #expect(FileManager.default.fileExists(atPath: temporary.home.logURL.appendingPathComponent(".clean-shutdown").path))

        let log = try Log.open(temporary.home.logURL)
        let rest = try OutboxRelay(store: store, log: log).drain()
        try log.close()
        #expect(rest.skippedAsAlreadyInLog == 0)
        #expect(rest.relayed == pending)
        #expect(try records(in: Log.openForReading(temporary.home.logURL), topic: "notes").map(sequence).sorted() == Array(0..<500))
    }
}
