import Foundation
import GRDB
@testable import Runnel
import RunnelTesting
import Testing

/// Invariant 2 under real crashes: a child `runnel relay --follow` is SIGKILLed at random
/// (seeded) moments while writers keep committing to both outboxes. After a final drain every
/// committed row is in the log exactly once, and rows with the same key are in commit order.
///
/// `RUNNEL_CRASH_SEED=N` replays a run; `RUNNEL_CRASH_ROUNDS=N` runs more rounds (default 20).
@Suite struct RelayCrashTests {
    final class Writer: @unchecked Sendable {
        // @unchecked: `committed` and `running` are only touched under `lock`.
        private let lock = NSLock()
        private var committed = 0
        private var running = true
        let store: Store

        init(store: Store) { self.store = store }

        var count: Int { lock.withLock { committed } }

        func stop() { lock.withLock { running = false } }

        func run() {
            var sequence = 0
            while lock.withLock({ running }) {
                let role: DatabaseRole = sequence % 5 == 4 ? .derived : .app
                do {
                    _ = try store.database(role).write { db in
                        try store.outbox.append(OutboxEvent(topic: role == .app ? "notes" : "derived-notes", key: "k\(sequence % 11)", type: "Noted",
                                                            payload: Note(sequence: sequence, text: "crash"), eventTime: Date()), in: db)
                    }
                    sequence += 1
                    lock.withLock { committed = sequence }
                } catch {
                    Issue.record("writer failed: \(error)")
                    return
                }
                usleep(200)
            }
        }
    }

    private func launch(_ arguments: [String], pauseAfterAppend: Int = 0) throws -> Process {
        try ChildProcess.launch(arguments, environment: ["RUNNEL_FAULT_RELAY_PAUSE_US": String(pauseAfterAppend)])
    }

    @Test func killedRelaysLoseAndDuplicateNothingAndKeepKeyOrder() throws {
        let schedule = CrashSchedule(defaultSeed: 20_261_124, defaultRounds: 20)
        let (seed, rounds) = (schedule.seed, schedule.rounds)
        var random = schedule.random
        let temporary = try TemporaryHome(label: "relay-crash")
        let store = try temporary.openStore()
        let home = temporary.home.url.path

        let writer = Writer(store: store)
        let writing = Thread { writer.run() }
        writing.start()
        var killedWhileRunning = 0
        for _ in 0..<rounds {
            // Most rounds widen the window between append and delete so kills land in it.
            let relay = try launch(["relay", "--follow", "--partitions", "3", "--batch-size", "\(50 + random.below(400))", "--home", home],
                                   pauseAfterAppend: random.below(4) == 0 ? 0 : 2_000 + random.below(20_000))
            usleep(UInt32(40_000 + random.below(250_000)))
            if relay.isRunning { killedWhileRunning += 1 }
            kill(relay.processIdentifier, SIGKILL)
            relay.waitUntilExit()
        }
        writer.stop()
        while !writing.isFinished { usleep(1_000) }

        let drain = try launch(["relay", "--home", home])
        drain.waitUntilExit()
        #expect(drain.terminationStatus == 0, "seed \(seed)")
        #expect(killedWhileRunning > rounds / 2, "seed \(seed): the relay was not running when killed")

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
        for role in DatabaseRole.allCases {
            #expect(try store.database(role).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") } == 0)
        }
    }

    @Test func sigtermFinishesTheBatchInHandAndExitsZero() throws {
        let temporary = try TemporaryHome(label: "relay-term")
        let store = try temporary.openStore()
        try commit(500, to: store)
        let relay = try launch(["relay", "--follow", "--home", temporary.home.url.path])
        // Wait until the backlog is drained, then ask it to stop.
        let deadline = Date().addingTimeInterval(20)
        while try store.app.read({ try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") }) ?? 1 > 0, Date() < deadline {
            usleep(10_000)
        }
        try commit(5, to: store, start: 500)
        usleep(100_000)
        kill(relay.processIdentifier, SIGTERM)
        relay.waitUntilExit()
        #expect(relay.terminationReason == .exit)
        #expect(relay.terminationStatus == 0)
        let log = try Log.openForReading(temporary.home.logURL)
        #expect(try records(in: log, topic: "notes").map(sequence).sorted() == Array(0..<505))
        // A clean stop leaves the marker: the next open scans nothing.
        #expect(FileManager.default.fileExists(atPath: temporary.home.logURL.appendingPathComponent(".clean-shutdown").path))
    }
}
