import Foundation
import GRDB
import Logging
import ServiceLifecycle

/// The relay in follow mode: drains, then waits for the next commit to either database and
/// drains again, until a graceful shutdown (SIGTERM) — which it honours between cycles, so the
/// batch in hand is finished and its rows deleted before it returns.
///
/// It runs on a thread of its own (its SQLite and log writes block), and between cycles it
/// suspends: a commit by any process writes the databases' WAL files, which the process's file
/// watcher (inotify on Linux) turns into a wake-up; SQLite's `PRAGMA data_version`, read on a
/// private connection, then tells a real commit from noise. It also looks every
/// ``idleCheckInterval`` — the only way to notice commits where there is no file watcher.
public struct RelayService: Service {
    public let relay: OutboxRelay
    /// How often the relay looks at the outbox when nothing woke it.
    public var idleCheckInterval: Duration
    /// Whether a cycle that fails because the destination is unreachable (a Kafka cluster
    /// down: `RunnelError.Code.kafka`) is retried after a backoff — 1 s doubling up to 30 s,
    /// the backlog logged at each attempt — rather than ending the service. Its rows stay in
    /// the outbox meanwhile.
    public var retriesUnreachableDestination: Bool
    private let logger: Logger

    /// Creates a follower for a relay.
    /// - Parameters:
    ///   - relay: The relay to run.
    ///   - idleCheckInterval: How often to look without a wake-up; nil picks 1 s where the
    ///     system has a file watcher and 10 ms where it does not.
    ///   - retriesUnreachableDestination: Whether a cycle that fails because the destination
    ///     cannot be reached is retried after a backoff instead of ending the service.
    ///   - logger: Where the follower logs its progress and its stop.
    public init(relay: OutboxRelay, idleCheckInterval: Duration? = nil, retriesUnreachableDestination: Bool = false,
                logger: Logger = Logger(label: "runnel.relay")) {
        self.relay = relay
        self.idleCheckInterval = idleCheckInterval ?? FileWatcher.idleCheckInterval
        self.retriesUnreachableDestination = retriesUnreachableDestination
        self.logger = logger
    }

    public func run() async throws {
        try await ServiceThread.run(named: "runnel.relay") { try await follow() }
    }

    private func follow() async throws {
        let signal = ChangeSignal()
        let home = relay.store.home
        let names = Set(DatabaseRole.allCases.flatMap { [$0.fileName, $0.fileName + "-wal"] })
        let subscription = FileWatcher.shared?.subscribe(signal, to: [home.url], names: names)
        defer { subscription.map { FileWatcher.shared?.cancel($0) } }
        let watchers = try DatabaseRole.allCases.map { role -> DatabaseQueue in
            var configuration = Configuration()
            configuration.readonly = true
            return try DatabaseQueue(path: home.databaseURL(role).path, configuration: configuration)
        }
        var versions = try watchers.map { try $0.read { try Int.fetchOne($0, sql: "PRAGMA data_version") } }
        var lastReport = ContinuousClock.now
        var relayedSinceReport = 0
        var retry = RetryDelay()
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let summary: OutboxRelay.Summary
            do {
                summary = try relay.relayOnce()
                retry.reset()
            } catch let error as RunnelError where retriesUnreachableDestination && error.code == .kafka {
                let backlog = try? relay.backlog()
                logger.warning("relay cycle failed; its rows stay in the outbox and the relay retries", metadata: [
                    "error": "\(error)", "relay.retry_in": "\(retry.current)",
                    "relay.backlog.rows": "\(backlog?.rows ?? -1)", "relay.backlog.oldest_ms": "\(backlog?.oldestAgeMs ?? 0)",
                ])
                await retry.wait()
                continue
            }
            relayedSinceReport += summary.relayed
            if ContinuousClock.now - lastReport > .seconds(10), relayedSinceReport > 0 {
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
                await signal.wait(timeout: idleCheckInterval)
            }
        }
        logger.info("relay stopping after its last batch")
    }
}
