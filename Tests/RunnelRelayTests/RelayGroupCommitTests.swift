import Foundation
import GRDB
@testable import Runnel
import RunnelTesting
import Testing

@Suite struct RelayGroupCommitTests {
    @Test func aSmallCycleWaitsTwiceAsLongAsItTookWithinTheBounds() {
        let policy = RelayService.GroupCommit(smallCycleRows: 64, minimumWait: .microseconds(100), maximumWait: .milliseconds(2))
        #expect(policy.wait(afterCycleOf: 1, took: .microseconds(700)) == .microseconds(1_400))
        #expect(policy.wait(afterCycleOf: 63, took: .microseconds(20)) == .microseconds(100))
        #expect(policy.wait(afterCycleOf: 5, took: .milliseconds(9)) == .milliseconds(2))
        #expect(RelayService.GroupCommit().maximumWait == .milliseconds(5))
    }

    @Test func aFullCycleOrAPolicyTurnedOffStartsTheNextAtOnce() {
        let policy = RelayService.GroupCommit()
        #expect(policy.wait(afterCycleOf: 64, took: .milliseconds(1)) == nil)
        #expect(policy.wait(afterCycleOf: 5_000, took: .milliseconds(1)) == nil)
        #expect(RelayService.GroupCommit.off.wait(afterCycleOf: 1, took: .milliseconds(1)) == nil)
        // A relay configured for cycles of 10 rows moved a full cycle: more are likely waiting.
        #expect(policy.wait(afterCycleOf: 10, took: .milliseconds(1), batchSize: 10) == nil)
        #expect(policy.wait(afterCycleOf: 9, took: .milliseconds(1), batchSize: 10) == .milliseconds(2))
        #expect(RelayService.GroupCommit(smallCycleRows: 10, minimumWait: .milliseconds(3), maximumWait: .milliseconds(1)).maximumWait == .milliseconds(3))
    }

    /// A following relay with group commit, fed by a writer committing one event at a time:
    /// every row reaches the log once, in commit order per key, and the outbox empties.
    @Test func aFollowingRelayThatWaitsBetweenSmallCyclesLosesAndDoublesNothing() async throws {
        let temporary = try TemporaryHome(label: "relay-group-commit")
        let store = try temporary.openStore()
        let log = try Log.open(temporary.home.logURL)
        let relay = try OutboxRelay(store: store, log: log, configuration: .init(topicDefaults: TopicConfiguration(partitions: 2)))
        let service = RelayService(relay: relay, groupCommit: .init(smallCycleRows: 1_000, minimumWait: .milliseconds(1), maximumWait: .milliseconds(5)))
        let following = Task { try await service.run() }
        for start in stride(from: 0, to: 300, by: 10) {
            try commit(10, to: store, keys: 3, start: start)
            try await Task.sleep(for: .milliseconds(1))
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while try relay.backlog().rows > 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        following.cancel()
        _ = await following.result
        let notes = try records(in: log, topic: "notes")
        #expect(try notes.map(sequence).sorted() == Array(0..<300))
        for key in 0..<3 {
            #expect(try notes.filter { $0.key == Array("k\(key)".utf8) }.map(sequence) == Array(stride(from: key, to: 300, by: 3)))
        }
        #expect(try relay.backlog().rows == 0)
        // Stopping deleted what the relay had relayed and left for later.
        let left = try await store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") }
        #expect(left == 0)
    }
}

/// A follower woken by a commit's WAL write can look before SQLite publishes the commit; it
/// must keep looking (1 ms, doubling to 64 ms) through one idle interval rather than wait that
/// interval (here ten minutes) for the next commit.
@Suite struct RelayWakeUpTests {
    @Test func eachLoneCommitReachesTheLogWithoutWaitingForTheIdleCheck() async throws {
        guard FileWatcher.shared != nil else { return }
        let temporary = try TemporaryHome(label: "relay-wake-up")
        let store = try temporary.openStore()
        let log = try Log.open(temporary.home.logURL)
        let relay = try OutboxRelay(store: store, log: log)
        let service = RelayService(relay: relay, idleCheckInterval: .seconds(600), groupCommit: .off)
        // The relay starts on a thread of its own, and the writer and the reader block one
        // rather than suspend: with other tests filling Swift's cooperative pool, a task started
        // there could wait most of the run to begin, and a suspended test could resume late,
        // either way blaming the relay.
        let following = ServiceThread.task(named: "relay-wake-up-test") { try await service.run() }
        let committing = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: Result { try Self.commitOneAtATime(to: store, log: log) }) }.start()
        }
        following.cancel()
        if case .failure(let error) = await following.result, !(error is CancellationError) {
            Issue.record("the relay stopped with \(error)")
        }
        try committing.get()
        #expect(try records(in: log, topic: "notes").map(sequence).sorted() == Array(0..<20))
    }

    /// Commits 20 events one at a time, each after the previous reached the log. Each must
    /// arrive well within the idle interval (100 s against ten minutes), whatever the load on
    /// the machine.
    private static func commitOneAtATime(to store: Store, log: Log) throws {
        for sequence in 0..<20 {
            try commit(1, to: store, start: sequence)
            let committed = ContinuousClock.now
            let limit = Duration.seconds(100)
            while try records(in: log, topic: "notes").count <= sequence {
                #expect(ContinuousClock.now - committed < limit, "commit \(sequence) has not reached the log after \(limit)")
                if ContinuousClock.now - committed >= limit { return }
                usleep(2_000)
            }
            // A slow arrival short of the limit is printed, to tell a loaded machine from a
            // missed wake-up should the limit ever be reached.
            if ContinuousClock.now - committed > .seconds(5) {
                print("RelayWakeUpTests: commit \(sequence) reached the log after \(ContinuousClock.now - committed)")
            }
            usleep(30_000)
        }
    }
}
