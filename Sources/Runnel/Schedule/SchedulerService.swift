import Foundation
import Logging
import ServiceLifecycle

/// A scheduler as a long-running service: it sleeps until the next fire time, claims and
/// starts what is due, and goes on until a graceful shutdown (SIGTERM), when it stops claiming
/// and lets the jobs in hand finish and record their outcome.
///
/// Jobs run beside the loop, so a long job holds up only its own entry. The loop also wakes
/// every half lease, to find runs of other schedulers that died (their leases lapsed) and
/// retry them by their entries' policies.
public struct SchedulerService: Service {
    public let scheduler: Scheduler
    private let logger: Logger

    /// Creates the service.
    /// - Parameters:
    ///   - scheduler: The scheduler to run; its clock says when to wake.
    ///   - logger: Where the service logs its start and stop.
    public init(scheduler: Scheduler, logger: Logger = Logger(label: "runnel.schedule")) {
        self.scheduler = scheduler
        self.logger = logger
    }

    public func run() async throws {
        // A thread of its own: claims are SQLite writes, and a cooperative pool kept busy by
        // other work must not delay a fire time.
        try await ServiceThread.run(named: "runnel.schedule") { try await loop() }
    }

    private func loop() async throws {
        let scheduler = scheduler
        let wake = ChangeSignal()
        logger.info("scheduler started", metadata: ["runnel.schedule.entries": "\(scheduler.catalog.schedules.count)"])
        try await withThrowingDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                let now = scheduler.clock.now()
                for run in try scheduler.claim(at: now) {
                    group.addTask {
                        _ = await scheduler.execute(run)
                        wake.notify()   // the entry may have queued fire times
                    }
                }
                let reap = now.addingTimeInterval(max(0.01, scheduler.options.lease.timeInterval / 2))
                let next = min(scheduler.nextWake(after: now) ?? reap, reap)
                await Self.sleep(until: next, on: scheduler.clock, or: wake)
            }
            logger.info("scheduler stopping: waiting for the jobs in hand")
        }
    }

    /// Returns at `deadline` on the clock, when `wake` is signalled, or at a graceful shutdown.
    private static func sleep(until deadline: Date, on clock: any WallClock, or wake: ChangeSignal) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await clock.sleep(until: deadline) }
            // The signal's own wait returns at a graceful shutdown, too.
            group.addTask { await wake.wait(timeout: .seconds(86_400)) }
            await group.next()
            group.cancelAll()
        }
    }
}
