import Foundation
import Logging
@testable import Runnel
import ServiceLifecycle
import RunnelTesting
import Testing

/// Records what a job saw, across tasks.
final class Executions: @unchecked Sendable {
    // @unchecked: `times` is only touched under `lock`.
    private let lock = NSLock()
    private var times: [Date] = []

    func record(_ time: Date) { lock.withLock { times.append(time) } }
    var all: [Date] { lock.withLock { times } }
}

/// What a scheduler does with due, missed, overlapping, failing and abandoned fire times, in
/// one process, ticked at chosen instants.
@Suite struct SchedulerTests {
    /// 2026-03-02 09:00:00 UTC, a Monday.
    static let nine = Date(timeIntervalSince1970: 1_772_442_000)
    static func at(_ minutes: Double, from start: Date = nine) -> Date { start.addingTimeInterval(minutes * 60) }

    private func scheduler(_ schedules: [Schedule], _ home: TemporaryHome, lease: Duration = .seconds(30)) throws -> Scheduler {
        let store = try home.openStore()
        return try Scheduler(store: store, catalog: Catalog(name: "test", schedules: schedules), options: .init(lease: lease))
    }

    private func outcomes(_ scheduler: Scheduler, _ entry: String) throws -> [String] {
        try scheduler.history(entry: entry, limit: 10_000).reversed().map { "\(ISO8601DateFormatter().string(from: $0.fireTime)) \($0.outcome.rawValue)" }
    }

    @Test func eachFireTimeRunsOnceAndIsRecorded() async throws {
        let executions = Executions()
        let home = try TemporaryHome(label: "schedule-basic")
        let scheduler = try scheduler([Schedule("every-5m", cron: "*/5 * * * *", job: .run { executions.record($0.fireTime) })], home)
        try await scheduler.tick(at: Self.at(-1))                   // first sight: nothing owed from before
        for minute in [0.0, 0.5, 5, 5, 7, 10] { try await scheduler.tick(at: Self.at(minute)) }
        #expect(executions.all == [Self.at(0), Self.at(5), Self.at(10)])
        #expect(try outcomes(scheduler, "every-5m") == ["2026-03-02T09:00:00Z succeeded", "2026-03-02T09:05:00Z succeeded", "2026-03-02T09:10:00Z succeeded"])
        let run = try #require(try scheduler.history(entry: "every-5m").first)
        #expect(run.attempts == 1 && run.pid == Int(ProcessInfo.processInfo.processIdentifier) && run.startedAt != nil && run.duration != nil)
    }

    @Test(arguments: [
        (MissedRunPolicy.skip, ["skipped", "skipped", "skipped", "skipped", "skipped"], 0),
        (.runOnce, ["coalesced", "coalesced", "coalesced", "coalesced", "succeeded"], 1),
        (.runAll(max: 2), ["skipped", "skipped", "skipped", "succeeded", "succeeded"], 2),
        (.runAll(max: 10), ["succeeded", "succeeded", "succeeded", "succeeded", "succeeded"], 5),
    ])
    func downtimeIsHandledByTheMissedRunPolicyAndEveryFireTimeHasARow(_ policy: MissedRunPolicy, _ expected: [String], _ runs: Int) async throws {
        let executions = Executions()
        let home = try TemporaryHome(label: "schedule-missed")
        let scheduler = try scheduler([Schedule("hourly", cron: "0 * * * *", missed: policy, job: .run { executions.record($0.fireTime) })], home)
        try await scheduler.tick(at: Self.at(-1))
        // Down from 08:59 to 13:30: the fire times 09:00 … 13:00 were missed, none is on time.
        try await scheduler.tick(at: Self.at(270))
        #expect(try outcomes(scheduler, "hourly").map { String($0.split(separator: " ")[1]) } == expected)
        #expect(executions.all.count == runs)
        #expect(executions.all == executions.all.sorted(), "catch-ups run oldest first")
        let reasons = try scheduler.history(entry: "hourly").compactMap(\.reason)
        #expect(reasons.allSatisfy { $0.hasPrefix("missed: ") }, "\(reasons)")
    }

    @Test func anOnTimeFireTimeAfterDowntimeRunsAndTheMissedOnesFollowThePolicy() async throws {
        let executions = Executions()
        let home = try TemporaryHome(label: "schedule-ontime")
        let scheduler = try scheduler([Schedule("hourly", cron: "0 * * * *", missed: .runOnce, job: .run { executions.record($0.fireTime) })], home)
        try await scheduler.tick(at: Self.at(-1))
        try await scheduler.tick(at: Self.at(180.25))             // 12:00:15: on time for 12:00
        #expect(try outcomes(scheduler, "hourly") == ["2026-03-02T09:00:00Z coalesced", "2026-03-02T10:00:00Z coalesced",
                                                      "2026-03-02T11:00:00Z coalesced", "2026-03-02T12:00:00Z succeeded"])
        #expect(executions.all == [Self.at(180)])
    }

    @Test func aJobThatThrowsIsFailedWithItsErrorAndTheNextFireTimeStillRuns() async throws {
        struct Broken: Error, CustomStringConvertible { var description: String { "the export target is full" } }
        let executions = Executions()
        let home = try TemporaryHome(label: "schedule-failed")
        let scheduler = try scheduler([Schedule("flaky", cron: "*/5 * * * *", job: .run { run in
            executions.record(run.fireTime)
            if run.fireTime == SchedulerTests.at(0) { throw Broken() }
        })], home)
        try await scheduler.tick(at: Self.at(-1))
        try await scheduler.tick(at: Self.at(0))
        try await scheduler.tick(at: Self.at(5))
        let history = try scheduler.history(entry: "flaky").reversed()
        #expect(history.map(\.outcome) == [.failed, .succeeded])
        #expect(history.first?.reason == "the export target is full")
        #expect(executions.all == [Self.at(0), Self.at(5)])
    }

    @Test(arguments: [OverlapPolicy.skip, .queue])
    func aFireTimeThatComesWhileTheRunIsGoingFollowsTheOverlapPolicy(_ policy: OverlapPolicy) async throws {
        let executions = Executions()
        let release = AsyncStream<Void>.makeStream()
        let started = AsyncStream<Void>.makeStream()
        let home = try TemporaryHome(label: "schedule-overlap")
        let schedules = [Schedule("slow", cron: "* * * * *", overlap: policy, job: .run { run in
            executions.record(run.fireTime)
            if run.fireTime == SchedulerTests.at(0) {
                started.continuation.yield()
                for await _ in release.stream { break }
            }
        })]
        let first = try scheduler(schedules, home)
        let second = try Scheduler(store: first.store, catalog: first.catalog)
        try await first.tick(at: Self.at(-0.5))
        let slow = Task { try await first.tick(at: Self.at(0)) }
        for await _ in started.stream { break }
        // 09:01 comes while 09:00 is still running, seen by a second scheduler.
        let meanwhile = try await second.tick(at: Self.at(1))
        #expect(meanwhile.isEmpty)
        release.continuation.yield()
        _ = try await slow.value
        try await second.tick(at: Self.at(1.5))                   // a queued fire time runs once the entry is free
        let history = try first.history(entry: "slow").reversed()
        switch policy {
        case .skip:
            #expect(history.map(\.outcome) == [.succeeded, .skipped])
            #expect(history.last?.reason == "overlap: the previous run was still going")
            #expect(executions.all == [Self.at(0)])
        case .queue:
            #expect(history.map(\.outcome) == [.succeeded, .succeeded])
            #expect(executions.all == [Self.at(0), Self.at(1)])
        }
    }

    @Test func aRunWhoseProcessDiedIsAbandonedThenRetriedAndNamesTheDeadProcess() async throws {
        let executions = Executions()
        let home = try TemporaryHome(label: "schedule-abandoned")
        let schedules = [Schedule("nightly", cron: "0 3 * * *", job: .run { executions.record($0.fireTime) })]
        let dying = try scheduler(schedules, home, lease: .milliseconds(100))
        _ = try dying.claim(at: Self.at(-1, from: Self.at(18 * 60)))
        let claimed = try dying.claim(at: Self.at(18 * 60))        // 03:00 the next day: claimed, then the process "dies"
        #expect(claimed.count == 1)
        #expect(try dying.history(entry: "nightly").first?.outcome == .running)

        let survivor = try Scheduler(store: dying.store, catalog: dying.catalog, options: .init(lease: .milliseconds(100)))
        #expect(try await survivor.tick(at: Self.at(18 * 60 + 1)).isEmpty, "the lease still holds: nothing runs twice at once")
        try await Task.sleep(for: .milliseconds(150))
        let retried = try await survivor.tick(at: Self.at(18 * 60 + 1))
        #expect(retried.map(\.outcome) == [.succeeded])
        let run = try #require(try survivor.history(entry: "nightly").first)
        #expect(run.attempts == 2)
        #expect(run.reason?.hasPrefix("attempt 1 abandoned: pid \(ProcessInfo.processInfo.processIdentifier) on ") == true, "\(run.reason ?? "")")
        #expect(executions.all == [Self.at(18 * 60)])
    }

    @Test func anAbandonedRunIsNotRetriedWhenThePolicySaysSo() async throws {
        let home = try TemporaryHome(label: "schedule-no-retry")
        let schedules = [Schedule("once", cron: "0 3 * * *", retriesAbandoned: false, job: .run { _ in })]
        let dying = try scheduler(schedules, home, lease: .milliseconds(50))
        _ = try dying.claim(at: Self.at(17 * 60))
        _ = try dying.claim(at: Self.at(18 * 60))
        try await Task.sleep(for: .milliseconds(100))
        try await dying.tick(at: Self.at(18 * 60 + 1))
        #expect(try dying.history(entry: "once").map(\.outcome) == [.abandoned])
    }

    @Test func theServiceSleepsUntilEachFireTimeOnItsClock() async throws {
        let executions = Executions()
        let home = try TemporaryHome(label: "schedule-service")
        let clock = ManualClock(Self.at(-0.5))
        let store = try home.openStore()
        let scheduler = try Scheduler(store: store, catalog: Catalog(name: "test", schedules: [
            Schedule("every-5m", cron: "*/5 * * * *", job: .run { executions.record($0.fireTime) }),
        ]), clock: clock)
        let service = Task { try await SchedulerService(scheduler: scheduler).run() }
        defer { service.cancel() }
        for minute in [0.0, 5, 10] {
            try await Self.eventually { clock.sleeperCount > 0 }
            clock.advance(to: Self.at(minute))
            try await Self.eventually { executions.all.count == Int(minute / 5) + 1 }
        }
        #expect(executions.all == [Self.at(0), Self.at(5), Self.at(10)])
        try await Self.eventually { (try? scheduler.history(entry: "every-5m").allSatisfy { $0.outcome == .succeeded }) == true }
    }

    @Test func aGracefulShutdownLetsTheJobInHandFinishAndRecordItsOutcome() async throws {
        let release = AsyncStream<Void>.makeStream()
        let started = AsyncStream<Void>.makeStream()
        let home = try TemporaryHome(label: "schedule-shutdown")
        let clock = ManualClock(Self.at(-0.5))
        let scheduler = try Scheduler(store: try home.openStore(), catalog: Catalog(name: "test", schedules: [
            Schedule("slow", cron: "* * * * *", job: .run { _ in
                started.continuation.yield()
                for await _ in release.stream { break }
            }),
        ]), clock: clock)
        let group = ServiceGroup(services: [SchedulerService(scheduler: scheduler)], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        try await Self.eventually { clock.sleeperCount > 0 }
        clock.advance(to: Self.at(0))
        for await _ in started.stream { break }
        await group.triggerGracefulShutdown()
        try await Task.sleep(for: .milliseconds(50))
        #expect(try scheduler.history(entry: "slow").map(\.outcome) == [.running], "the job in hand is still going")
        release.continuation.yield()
        try await running.value
        #expect(try scheduler.history(entry: "slow").map(\.outcome) == [.succeeded])
    }

    @Test func jitterDelaysEachStartByTheSameShareOfTheWindow() async throws {
        let executions = Executions()
        let home = try TemporaryHome(label: "schedule-jitter")
        let entry = Schedule("spread", cron: "0 * * * *", jitter: .minutes(10), job: .run { executions.record($0.fireTime) })
        let delay = Double(entry.jitterMilliseconds) / 1000
        #expect(delay > 0 && delay < 600)
        #expect(Schedule("spread", cron: "@hourly", jitter: .minutes(10), job: .logRetention).jitterMilliseconds == entry.jitterMilliseconds,
                "the delay comes from the name alone")
        let scheduler = try scheduler([entry], home)
        try await scheduler.tick(at: Self.at(-1))
        try await scheduler.tick(at: Self.at(delay / 60 - 0.01))      // the fire time has come, its start not yet
        #expect(executions.all.isEmpty)
        #expect(scheduler.nextWake(after: Self.at(0)) == Self.at(delay / 60))
        try await scheduler.tick(at: Self.at(delay / 60))
        #expect(executions.all == [Self.at(0)], "the run is recorded for its fire time, not its delayed start")
    }

    @Test func aChangedExpressionStartsFromNowAndSkipsWhatTheOldOneQueued() async throws {
        let home = try TemporaryHome(label: "schedule-changed")
        let store = try home.openStore()
        let old = try Scheduler(store: store, catalog: Catalog(name: "test", schedules: [
            Schedule("report", cron: "*/5 * * * *", missed: .runAll(max: 10), job: .run { _ in }),
        ]))
        try await old.tick(at: Self.at(-1))
        let claimed = try old.claim(at: Self.at(10))              // 09:00 claimed, 09:05 and 09:10 queued behind it
        #expect(claimed.map(\.fireTime) == [Self.at(0)])
        let new = try Scheduler(store: store, catalog: Catalog(name: "test", schedules: [
            Schedule("report", cron: "0 * * * *", job: .run { _ in }),
        ]))
        try await new.tick(at: Self.at(11))
        let history = try new.history(entry: "report").reversed()
        #expect(history.map(\.outcome) == [.running, .skipped, .skipped])
        #expect(history.last?.reason == "the entry changed from */5 * * * * (UTC) before it ran")
        _ = await old.execute(claimed[0])                          // the run in hand ends as usual
        try await new.tick(at: Self.at(60))
        let latest = try #require(try new.history(entry: "report").first)
        #expect(latest.fireTime == Self.at(60) && latest.outcome == .succeeded)
    }

    @Test func theLogRetentionJobDeletesExpiredSegmentsAndKeepsTheActiveOne() async throws {
        let home = try TemporaryHome(label: "schedule-retention-job")
        let store = try home.openStore()
        let day: Int64 = 86_400_000
        let old = Date().millisecondsSince1970 - 3 * day
        let log = try Log.open(store.home.logURL)
        let partition = try log.createTopic("aged", TopicConfiguration(retentionMs: day, segmentBytes: 2_048)).partitions[0]
        for batch in 0..<20 {
            try partition.append((0..<4).map { LogRecord(timestamp: old, key: nil, value: Array(repeating: UInt8(batch), count: 40 + $0)) })
        }
        let before = partition.segmentSummaries.count
        try log.close()
        #expect(before > 1)

        let scheduler = try scheduler([Schedule("retention", cron: "@hourly", job: .logRetention)], home)
        try await scheduler.tick(at: Self.at(-1))
        #expect(try await scheduler.tick(at: Self.at(0)).map(\.outcome) == [.succeeded])
        let reopened = try Log.openForReading(store.home.logURL)
        #expect(try reopened.topic("aged")?.partitions[0].segmentSummaries.count == 1, "every closed segment was past retention")
    }

    @Test func historyIsKeptForTheConfiguredPeriod() async throws {
        let home = try TemporaryHome(label: "schedule-retention")
        let scheduler = try Scheduler(store: try home.openStore(), catalog: Catalog(name: "test", schedules: [
            Schedule("hourly", cron: "0 * * * *", job: .run { _ in }),
        ]), options: .init(historyRetention: .hours(5)))
        try await scheduler.tick(at: Self.at(-1))
        for hour in 0...8 { try await scheduler.tick(at: Self.at(Double(hour) * 60)) }
        // At 17:00, rows of fire times before 12:00 are gone.
        #expect(try scheduler.history(entry: "hourly").map(\.fireTime) == (3...8).reversed().map { Self.at(Double($0) * 60) })
    }

    @Test func aCatalogWithABadScheduleIsRefusedNamingTheEntryAndTheField() throws {
        let bad = Catalog(name: "shop", schedules: [Schedule("nightly", cron: "61 3 * * *", job: .run { _ in })])
        let error = try #require(throws: RunnelError.self) { try bad.validate() }
        #expect(error.message.hasPrefix("schedule nightly: "), "\(error)")
        #expect(error.message.contains("minute") && error.message.contains("61"), "\(error)")

        let zone = Catalog(name: "shop", schedules: [Schedule("nightly", cron: "0 3 * * *", timeZone: "Europe/Berlinn", job: .run { _ in })])
        #expect(throws: RunnelError.self) { try zone.validate() }

        let pipeline = Catalog(name: "shop", schedules: [Schedule("nightly", cron: "0 3 * * *", job: .pipelines("revenue"))])
        let missing = try #require(throws: RunnelError.self) { try pipeline.validate() }
        #expect(missing.message == "schedule nightly runs pipeline revenue, which the shop catalog does not have")

        let twice = Catalog(name: "shop", schedules: [Schedule("a", cron: "@daily", job: .logRetention), Schedule("a", cron: "@hourly", job: .logRetention)])
        #expect(throws: RunnelError.self) { try twice.validate() }

        let never = Catalog(name: "shop", schedules: [Schedule("leap", cron: "0 0 30 2 *", job: .logRetention)])
        let neverError = try #require(throws: RunnelError.self) { try never.validate() }
        #expect(neverError.message.hasPrefix("schedule leap: 0 0 30 2 * never fires"), "\(neverError)")
    }

    /// Polls a condition for up to 300 s: a machine busy with other suites can hold every
    /// thread of the cooperative pool for most of a run (two threads on two cores), and the
    /// poll resumes only when one is free.
    static func eventually(_ condition: @escaping @Sendable () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(300)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("a condition did not become true within 300 s")
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
