import Foundation
import GRDB
import Logging
import ServiceLifecycle

/// The relay in follow mode: drains, then waits for the next commit to either database and
/// drains again, until a graceful shutdown (SIGTERM) — which it honours between cycles, so the
/// batch in hand is finished and its rows deleted before it returns.
///
/// A commit is noticed by polling SQLite's `PRAGMA data_version` on a private connection to each
/// database every ``pollInterval``: the value changes whenever another connection commits, and
/// reading it costs microseconds, so new rows are seen within about a millisecond without a
/// long fixed poll.
public struct RelayService: Service {
    public let relay: OutboxRelay
    public var pollInterval: Duration
    private let logger: Logger

    public init(relay: OutboxRelay, pollInterval: Duration = .milliseconds(1), logger: Logger = Logger(label: "runnel.relay")) {
        self.relay = relay
        self.pollInterval = pollInterval
        self.logger = logger
    }

    public func run() async throws {
        let watchers = try DatabaseRole.allCases.map { role -> DatabaseQueue in
            var configuration = Configuration()
            configuration.readonly = true
            return try DatabaseQueue(path: relay.store.home.databaseURL(role).path, configuration: configuration)
        }
        var versions = try watchers.map { try $0.read { try Int.fetchOne($0, sql: "PRAGMA data_version") } }
        var lastReport = ContinuousClock.now
        var relayedSinceReport = 0
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let summary = try relay.relayOnce()
            relayedSinceReport += summary.relayed
            if ContinuousClock.now - lastReport > .seconds(10) {
                let backlog = try relay.backlog()
                let seconds = Double((ContinuousClock.now - lastReport).components.seconds)
                logger.info("relay progress", metadata: [
                    "relay.rows_per_second": "\(Int(Double(relayedSinceReport) / max(seconds, 1)))",
                    "relay.backlog.rows": "\(backlog.rows)", "relay.backlog.oldest_ms": "\(backlog.oldestAgeMs ?? 0)",
                ])
                lastReport = ContinuousClock.now
                relayedSinceReport = 0
            }
            if summary.relayed + summary.deadLettered + summary.skippedAsAlreadyInLog > 0 { continue }
            // Nothing pending: wait until either database sees a commit.
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                let now = try watchers.map { try $0.read { try Int.fetchOne($0, sql: "PRAGMA data_version") } }
                if now != versions {
                    versions = now
                    break
                }
                try? await Task.sleep(for: pollInterval)
            }
        }
        logger.info("relay stopping after its last batch")
    }
}
