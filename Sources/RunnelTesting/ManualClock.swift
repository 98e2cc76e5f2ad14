import Foundation
import Runnel

/// A clock that moves only when a test moves it, for schedules (and any service that takes a
/// ``WallClock``): `advance(to:)` wakes every sleeper whose deadline it passes.
///
/// ```swift
/// let clock = ManualClock(Date(timeIntervalSince1970: 1_772_442_000))
/// let service = SchedulerService(scheduler: try Scheduler(store: store, catalog: catalog, clock: clock))
/// clock.advance(by: .seconds(300))   // the 5-minute entry fires
/// ```
public final class ManualClock: WallClock, @unchecked Sendable {
    // @unchecked: `current` and `sleepers` are only touched under `lock`.
    private let lock = NSLock()
    private var current: Date
    private var sleepers: [(id: UUID, deadline: Date, continuation: CheckedContinuation<Void, any Error>)] = []

    /// A clock reading `start`.
    public init(_ start: Date) {
        current = start
    }

    public func now() -> Date {
        lock.withLock { current }
    }

    /// How many tasks are sleeping on the clock: a test waits for a service to go to sleep
    /// before it moves time.
    public var sleeperCount: Int {
        lock.withLock { sleepers.count }
    }

    public func sleep(until deadline: Date) async throws {
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let ready = lock.withLock { () -> Bool in
                    if deadline <= current || Task.isCancelled { return true }
                    sleepers.append((id, deadline, continuation))
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let sleeper = lock.withLock { () -> CheckedContinuation<Void, any Error>? in
                guard let index = sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return sleepers.remove(at: index).continuation
            }
            sleeper?.resume(throwing: CancellationError())
        }
        try Task.checkCancellation()
    }

    /// Moves the clock to `time` (never back) and wakes the sleepers whose deadline has come.
    public func advance(to time: Date) {
        let woken = lock.withLock { () -> [CheckedContinuation<Void, any Error>] in
            current = max(current, time)
            let due = sleepers.filter { $0.deadline <= current }
            sleepers.removeAll { $0.deadline <= current }
            return due.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Moves the clock forward by `span`.
    public func advance(by span: Duration) {
        advance(to: now().addingTimeInterval(span.timeInterval))
    }
}
