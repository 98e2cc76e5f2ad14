import Foundation
import GRDB
import Runnel
import RunnelTesting
import Synchronization
import Testing

/// What the spinning tasks and the watching thread share.
private final class SpinFlags: Sendable {
    let done = Atomic<Bool>(false)
    let seenWhileSpinning = Atomic<Bool>(false)
    let spinning = Atomic<Int>(0)
}

/// A follower waits for wake-ups, not polls, and runs on a thread of its own.
@Suite struct FollowerWakeupTests {
    /// The events the follower has committed, read from its bookkeeping row.
    private static func eventsIn(_ driver: PipelineTestDriver) throws -> Int64 {
        try driver.rows("runnel_pipelines").first.flatMap { int($0["events_in"]) } ?? 0
    }

    @Test func aCaughtUpFollowerIsWokenByAnAppendNotByItsIdleCheck() async throws {
        let driver = try PipelineTestDriver(clicksPerUser)
        try driver.click(1, user: 1, at: 0)
        // An idle check of an hour: only a wake-up can bring the second event in time.
        let service = PipelineService(pipeline: clicksPerUser, store: driver.store, idleCheckInterval: .seconds(3600))
        let follower = Task { try await service.run() }
        let deadline = ContinuousClock.now + .seconds(300)
        while try Self.eventsIn(driver) < 1, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(100)) // caught up and waiting
        try driver.click(2, user: 1, at: 1)
        while try Self.eventsIn(driver) < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(try Self.eventsIn(driver) == 2)
        follower.cancel()
        try await follower.value
    }

    @Test func aBusyCooperativePoolCannotHoldUpAFollowersBatch() async throws {
        let driver = try PipelineTestDriver(clicksPerUser)
        try driver.click(1, user: 1, at: 0)
        let service = PipelineService(pipeline: clicksPerUser, store: driver.store)
        let follower = Task { try await service.run() }
        let deadline = ContinuousClock.now + .seconds(300)
        while try Self.eventsIn(driver) < 1, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(try Self.eventsIn(driver) == 1)

        // CPU-bound tasks take every thread of the cooperative pool (and more) and spin until
        // the follower has committed the next event, or 20 s. The event is appended and
        // watched for from a plain thread, which the pool's load does not hold up.
        let flags = SpinFlags()
        let width = ProcessInfo.processInfo.activeProcessorCount * 2
        var spinners: [Task<Void, Never>] = []
        for _ in 0..<width {
            spinners.append(Task.detached {
                flags.spinning.add(1, ordering: .relaxed)
                let stop = ContinuousClock.now + .seconds(20)
                while !flags.done.load(ordering: .relaxed), ContinuousClock.now < stop {}
            })
        }
        nonisolated(unsafe) let unsafeDriver = driver
        let watcher = Thread {
            while flags.spinning.load(ordering: .relaxed) < ProcessInfo.processInfo.activeProcessorCount { usleep(1_000) }
            _ = try? unsafeDriver.click(2, user: 1, at: 1)
            let stop = ContinuousClock.now + .seconds(20)
            while ((try? Self.eventsIn(unsafeDriver)) ?? 0) < 2, ContinuousClock.now < stop { usleep(1_000) }
            // Still spinning (they stop only on `done` or at 20 s) while the batch committed.
            flags.seenWhileSpinning.store(((try? Self.eventsIn(unsafeDriver)) ?? 0) == 2 && ContinuousClock.now < stop, ordering: .relaxed)
            flags.done.store(true, ordering: .relaxed)
        }
        watcher.start()
        for spinner in spinners { await spinner.value }
        let seen = flags.seenWhileSpinning.load(ordering: .relaxed)
        #expect(seen, "the follower's batch waited for the cooperative pool")
        follower.cancel()
        try await follower.value
    }
}
