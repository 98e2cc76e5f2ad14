import ServiceLifecycle

/// The wait between attempts at something that cannot be reached yet (a Kafka cluster that is
/// down): 1 s, doubling up to 30 s, back to 1 s after a success. Every wait ends early when a
/// graceful shutdown begins, so a follower stops within a tenth of a second.
package struct RetryDelay: Sendable {
    package private(set) var current: Duration
    private let initial: Duration
    private let maximum: Duration

    package init(initial: Duration = .seconds(1), maximum: Duration = .seconds(30)) {
        self.initial = initial
        self.maximum = maximum
        current = initial
    }

    /// After a success: the next failure waits the initial delay again.
    package mutating func reset() { current = initial }

    /// Waits the current delay, then doubles it.
    package mutating func wait() async {
        await Self.sleep(for: current)
        current = min(current * 2, maximum)
    }

    /// Sleeps, waking early for a graceful shutdown or a cancellation.
    package static func sleep(for duration: Duration) async {
        let clock = ContinuousClock()
        let deadline = clock.now + duration
        while clock.now < deadline, !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await Task.sleep(for: min(.milliseconds(100), deadline - clock.now))
        }
    }
}
