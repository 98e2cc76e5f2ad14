import Foundation

/// Where services read the time of day and wait for a moment: the system's clock in
/// production, a manual clock in tests (`ManualClock` in RunnelTesting), so a test moves time
/// by hours in a millisecond and every run sees the same instants.
public protocol WallClock: Sendable {
    /// The current instant.
    func now() -> Date
    /// Suspends until the clock reads `deadline` or later.
    /// - Throws: `CancellationError` when the task is cancelled first.
    func sleep(until deadline: Date) async throws
}

/// The system's clock.
public struct SystemWallClock: WallClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        if seconds > 0 { try await Task.sleep(for: .milliseconds(Int64((seconds * 1000).rounded(.up)))) }
    }
}
