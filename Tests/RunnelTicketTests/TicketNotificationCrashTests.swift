import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

/// The delivery guarantee under real crashes: a child `tickets notify` delivering to a receiver on
/// 127.0.0.1 is SIGKILLed, round after round, right after a webhook send and before its commit,
/// right after a file append and before its commit, or at a random moment; then a last child
/// runs to completion. Every notification must reach the receiver, every copy of a key with the
/// same body and `Idempotency-Key`, the file must hold each key exactly once, and everything
/// must end delivered. `RUNNEL_CRASH_SEED=N` replays a run; `RUNNEL_CRASH_ROUNDS=N` runs more rounds (default 8).
@Suite struct TicketNotificationCrashTests {
    static let sent = (variable: "RUNNEL_FAULT_NOTIFY_SENT_PAUSE_US", moment: "notify-sent-before-commit")
    static let appended = (variable: "RUNNEL_FAULT_NOTIFY_APPENDED_PAUSE_US", moment: "notify-appended-before-commit")

    /// Runs `body` on a new thread and returns what it returns.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    @Test func killedNotifiersResendWithTheSameKeyAndLoseNothing() async throws {
        let schedule = CrashSchedule(defaultSeed: 20_261_206, defaultRounds: 8)
        let (seed, rounds) = (schedule.seed, schedule.rounds)
        let temporary = try TemporaryHome(label: "notify-crash")
        let store = try temporary.openStore()
        let changes = (1...10).map { AnnouncedChange(ticketId: String(format: "%012d", $0), service: $0 % 2 == 0 ? "checkout" : "search") }
        try TicketNotificationFixtures.announce(changes, in: temporary.home)
        var expected = Set(changes.flatMap(\.keys))
        let receiver = try WebhookReceiver()
        try receiver.start()
        defer { receiver.stop() }
        let arguments = ["tickets", "notify", "--webhook", receiver.url.absoluteString, "--home", temporary.home.url.path]

        // The rounds run on a thread of their own: the kills are aimed with the system's sleeps,
        // which a cooperative pool busy with other suites cannot delay past a pause, and no
        // thread of that pool is held meanwhile. Problems are reported once they are back.
        let (aimedSends, problems, fresh, summary) = try await Self.onThread { () throws -> (Int, [String], Set<String>, String) in
            var random = schedule.random
            var aimedSends = 0
            var problems: [String] = []
            var fresh = Set<String>()
            for round in 0..<rounds {
                let aim = [Self.sent, Self.sent, Self.appended, nil][round % 4]
                let pause = 150_000 + random.below(100_000)
                var environment: [String: String] = [:]
                if let aim { environment[aim.variable] = String(pause) }
                // Fresh changes each round, so every round has file appends to interrupt too.
                let changes = (1...2).map { AnnouncedChange(ticketId: String(format: "%06d%06d", round + 1, $0), service: "checkout") }
                try TicketNotificationFixtures.announce(changes, in: temporary.home)
                fresh.formUnion(changes.flatMap(\.keys))
                let before = receiver.requests.count
                let child = try CrashChild(arguments, environment: environment)
                if let aim {
                    // Let a few sends commit first, then kill inside the pause after one.
                    let wanted = aim == Self.sent ? 1 + random.below(3) : 1
                    let line = FaultPauses.pausingLine(aim.moment)
                    let deadline = Date().addingTimeInterval(60)
                    while child.count(line) < wanted, child.process.isRunning, Date() < deadline { usleep(2_000) }
                    if child.count(line) >= wanted, aim == Self.sent { aimedSends += 1 }
                    usleep(UInt32(random.below(pause / 4)))
                } else {
                    usleep(UInt32(20_000 + random.below(300_000)))
                }
                child.kill()
                let phase = child.interruptedPause ?? "a moment outside the pauses (or after the child finished)"
                if !child.diedOfSIGKILL, child.process.terminationStatus != 0 {
                    problems.append("round \(round): the child failed with \(child.termination): \(child.standardError.suffix(400))")
                }
                if let aim, child.interruptedPause != aim.moment {
                    problems.append("round \(round): the kill missed \(aim.moment): \(child.standardError.suffix(300))")
                }
                print("notify crash seed \(seed) round \(round): killed at \(phase); receiver got \(before) -> \(receiver.requests.count) requests")
            }
            let output = Pipe()
            let last = try CrashChild(arguments, standardOutput: output)
            let summary = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            last.waitUntilExit()
            if last.process.terminationStatus != 0 {
                problems.append("the last run failed with \(last.termination): \(last.standardError.suffix(400))")
            }
            return (aimedSends, problems, fresh, summary)
        }
        #expect(problems.isEmpty, "seed \(seed): \(problems.joined(separator: "; "))")
        expected.formUnion(fresh)
        print("notify crash seed \(seed): final run: \(summary.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\n", with: " "))")

        let requests = receiver.requests
        let byKey = Dictionary(grouping: requests) { $0.key ?? "" }
        #expect(Set(byKey.keys) == expected, "seed \(seed): keys missing or unknown: \(Set(byKey.keys).symmetricDifference(expected).sorted())")
        for (key, copies) in byKey {
            #expect(Set(copies.map(\.body)).count == 1, "seed \(seed): \(key) was sent with different bodies")
            for copy in copies {
                let body = try JSONSerialization.jsonObject(with: Data(copy.body.utf8)) as? [String: Any]
                #expect(body?["key"] as? String == key, "seed \(seed): a copy's Idempotency-Key is not its body's key")
            }
        }
        let duplicates = requests.count - byKey.count
        print("notify crash seed \(seed): \(requests.count) requests for \(expected.count) notifications, \(duplicates) resent after a kill")
        // A kill after a send and before its commit must cause a resend, or the rounds proved nothing.
        #expect(aimedSends == 0 || duplicates > 0, "seed \(seed): no notification was sent again after a kill between send and commit")
        #expect(aimedSends > 0, "seed \(seed): no kill landed between a send and its commit")

        let keysInFile = try TicketNotificationFixtures.lines(at: temporary.home.reportsURL.appendingPathComponent("notifications.jsonl"))
            .map { $0["key"] as? String ?? "" }
        #expect(keysInFile.count == expected.count && Set(keysInFile) == expected, "seed \(seed): the file holds \(keysInFile.count) lines for \(expected.count) keys")
        let states = try await store.app.read { db in
            try Row.fetchAll(db, sql: "SELECT file_state, webhook_state, count(*) AS n FROM runnel_notifications GROUP BY 1, 2")
                .map { "\($0["file_state"] as String)/\($0["webhook_state"] as String): \($0["n"] as Int)" }
        }
        #expect(states == ["delivered/delivered: \(expected.count)"], "seed \(seed)")
    }
}
