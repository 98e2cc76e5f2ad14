import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Runs a service and, when it fails, runs it again after a backoff, until a graceful
/// shutdown: one failing pipeline or handler of `runnel up` is logged and retried, while the
/// rest of the process goes on.
///
/// The backoff doubles from ``Backoff/initial`` up to ``Backoff/maximum``, and starts again
/// from the initial delay once a run has lasted ``Backoff/healthyAfter``. A failure that is
/// deterministic (a batch the pipeline cannot process) is retried forever at the maximum
/// delay: its state is committed up to that batch, so nothing is lost, and each attempt is
/// logged at `error` with the failure and counted in `runnel_service_restarts_total`.
///
/// A service that returns without a shutdown having begun is restarted too: in a daemon, a
/// follower that stops by itself is a failure.
package struct SupervisedService: Service {
    /// How long to wait between attempts.
    package struct Backoff: Sendable, Equatable {
        package var initial: Duration
        package var maximum: Duration
        /// A run this long resets the delay to ``initial``.
        package var healthyAfter: Duration

        package init(initial: Duration = .seconds(1), maximum: Duration = .seconds(60), healthyAfter: Duration = .seconds(60)) {
            self.initial = min(initial, maximum)
            self.maximum = maximum
            self.healthyAfter = healthyAfter
        }
    }

    /// The name the logs, the metric and the board use: `pipeline member-sessions`, `relay`.
    package let name: String
    private let service: any Service
    private let backoff: Backoff
    private let board: ServiceBoard
    private let logger: Logger
    private let restarts: Counter

    /// - Parameters:
    ///   - name: The service's name in logs, metrics and the board.
    ///   - service: The service; run again as it is after each failure, so it must make its
    ///     state afresh in `run()` (Runnel's followers do).
    ///   - backoff: The delays between attempts.
    ///   - board: Where the service's state is kept for status screens.
    ///   - logger: Where failures and restarts are logged.
    package init(_ name: String, _ service: any Service, backoff: Backoff = Backoff(), board: ServiceBoard, logger: Logger) {
        self.name = name
        self.service = service
        self.backoff = backoff
        self.board = board
        self.logger = logger
        restarts = Counter(label: "runnel_service_restarts_total", dimensions: [("service", name)])
    }

    package func run() async throws {
        var delay = backoff.initial
        let wake = ChangeSignal()
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let started = ContinuousClock.now
            board.update(name) { $0.state = .running; $0.startedAt = Date() }
            let failure: String
            do {
                try await service.run()
                guard !Task.isShuttingDownGracefully, !Task.isCancelled else { break }
                failure = "it stopped by itself"
            } catch {
                guard !Task.isShuttingDownGracefully, !Task.isCancelled else {
                    // A failure while stopping ends this service only; the others stop as asked.
                    logger.error("service failed while stopping", metadata: ["service": "\(name)", "error": "\(error)"])
                    break
                }
                failure = "\(error)"
            }
            if ContinuousClock.now - started >= backoff.healthyAfter { delay = backoff.initial }
            restarts.increment()
            board.update(name) { entry in
                entry.state = .waiting
                entry.restarts += 1
                entry.lastFailure = failure
                entry.lastFailureAt = Date()
                entry.nextAttemptAt = Date().addingTimeInterval(Double(delay.wholeMilliseconds) / 1000)
            }
            logger.error("service failed; restarting after a backoff", metadata: [
                "service": "\(name)", "error": "\(failure)", "service.restart.delay_ms": "\(delay.wholeMilliseconds)",
            ])
            // Returns early at a graceful shutdown: a waiting service stops at once.
            await wake.wait(timeout: delay)
            delay = min(delay * 2, backoff.maximum)
        }
        board.update(name) { $0.state = .stopped; $0.nextAttemptAt = nil }
    }
}

/// The state of each supervised service of a process, for `/api/services` and logs: running,
/// waiting to restart after a failure, or stopped; how often it restarted and why it last failed.
package final class ServiceBoard: Sendable {
    package enum State: String, Sendable, Codable {
        case running, waiting, stopped
    }

    package struct Entry: Sendable, Equatable, Codable {
        package var name: String
        package var state: State = .stopped
        package var startedAt: Date?
        package var restarts = 0
        package var lastFailure: String?
        package var lastFailureAt: Date?
        package var nextAttemptAt: Date?
    }

    private let entries = Locked<[String: Entry]>([:])

    package init() {}

    /// Every service's entry, by name.
    package var all: [Entry] {
        entries.withLock { $0.values.sorted { $0.name < $1.name } }
    }

    func update(_ name: String, _ change: (inout Entry) -> Void) {
        entries.withLock { entries in
            var entry = entries[name] ?? Entry(name: name)
            change(&entry)
            entries[name] = entry
        }
    }
}
