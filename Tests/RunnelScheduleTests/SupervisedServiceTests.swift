import Foundation
import Logging
@testable import Runnel
import RunnelTesting
import ServiceLifecycle
import Testing

private struct Thing: Codable, Sendable {
    var kind: String
    var at: Date
}

/// A service that fails its first `failures` runs, then runs until a graceful shutdown.
private struct FlakyService: Service {
    let failures: Int
    let attempts = Executions()

    struct Failure: Error, CustomStringConvertible {
        var attempt: Int
        var description: String { "attempt \(attempt) failed" }
    }

    func run() async throws {
        attempts.record(Date())
        if attempts.all.count <= failures { throw Failure(attempt: attempts.all.count) }
        try await gracefulShutdown()
    }
}

/// `runnel up`'s supervision: a failing service is restarted after a doubling, capped backoff,
/// the group goes on meanwhile, and a graceful shutdown ends a wait at once.
@Suite struct SupervisedServiceTests {
    static let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test func aFailingServiceIsRestartedAfterADoublingCappedBackoff() async throws {
        let flaky = FlakyService(failures: 4)
        let board = ServiceBoard()
        let backoff = SupervisedService.Backoff(initial: .milliseconds(20), maximum: .milliseconds(80), healthyAfter: .seconds(60))
        let supervised = SupervisedService("flaky", flaky, backoff: backoff, board: board, logger: Self.quiet)
        let group = ServiceGroup(services: [supervised], logger: Self.quiet)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            while flaky.attempts.all.count < 5 { try await Task.sleep(for: .milliseconds(5)) }
            let entry = try #require(board.all.first)
            #expect(entry.name == "flaky" && entry.restarts == 4 && entry.lastFailure == "attempt 4 failed")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let times = flaky.attempts.all
        let gaps = zip(times.dropFirst(), times).map { $0.timeIntervalSince($1) * 1000 }
        // 20, 40, 80, 80 ms: each gap at least its delay (a wait may run long, never short).
        for (gap, delay) in zip(gaps, [20.0, 40, 80, 80]) { #expect(gap >= delay - 1, "gaps \(gaps)") }
        #expect(board.all.first?.state == .stopped)
    }

    /// With an hour's backoff, only a wait cut short by the shutdown ends within the time limit.
    @Test(.timeLimit(.minutes(2))) func aGracefulShutdownEndsTheWaitBeforeARestart() async throws {
        let flaky = FlakyService(failures: 1_000)
        let board = ServiceBoard()
        let backoff = SupervisedService.Backoff(initial: .seconds(3_600), maximum: .seconds(3_600))
        let group = ServiceGroup(services: [SupervisedService("flaky", flaky, backoff: backoff, board: board, logger: Self.quiet)], logger: Self.quiet)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            while board.all.first?.state != .waiting { try await Task.sleep(for: .milliseconds(5)) }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(flaky.attempts.all.count == 1)
        #expect(board.all.first?.state == .stopped)
    }

    @Test func aScheduledPipelineRunIsSatisfiedByAFollowerInTheSameProcess() async throws {
        let home = try TemporaryHome(label: "schedule-followed")
        let store = try home.openStore()
        let pipeline = Pipeline("counts", version: 1, description: "") {
            Source("things", as: Thing.self, type: "Thing", time: \.at)
                .keyBy("kind", \.kind)
                .aggregate { Count("n") }
                .into(ReadView("thing_counts", primaryKey: ["kind"]))
        }
        let catalog = Catalog(name: "test", pipelines: [pipeline], schedules: [Schedule("often", cron: "* * * * *", job: .pipelines("counts"))])
        let scheduler = try Scheduler(store: store, catalog: catalog)
        let group = ServiceGroup(services: [PipelineService(pipeline: pipeline, store: store)], logger: Self.quiet)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            while !InProcessFollowers.isFollowed("counts", in: store.home) { try await Task.sleep(for: .milliseconds(5)) }
            let now = Date()
            try await scheduler.tick(at: now.addingTimeInterval(-60))
            let runs = try await scheduler.tick(at: now)
            #expect(runs.map(\.outcome) == [.succeeded], "\(runs)")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(!InProcessFollowers.isFollowed("counts", in: store.home))
    }
}
