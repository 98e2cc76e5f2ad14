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
///
/// **Deferred deletes.** Deleting relayed rows commits to the database the rows came from, which
/// competes with the application's own commits for SQLite's write lock and the disk. So the
/// relay deletes at most every ``deleteDelay`` (and when it finds nothing new, and when it
/// stops), its cycles reading past the rows already relayed
/// (``OutboxRelay/relayOnce(deletingAfter:)``).
///
/// **Group commit.** Every cycle fsyncs the log. Writers committing one event at a time would
/// otherwise get a relay cycle of one or two rows for each of their commits. So after a cycle
/// that carried only a few rows, the relay waits twice as long as that cycle took
/// (``GroupCommit``, at most ``GroupCommit/maximumWait``) before the next one, and the rows
/// committed meanwhile share one cycle. Under load cycles are full and nothing waits; an idle
/// relay wakes at once on the next commit.
public struct RelayService: Service {
    public let relay: OutboxRelay
    /// How often the relay looks at the outbox when nothing woke it.
    public var idleCheckInterval: Duration
    /// How long the relay may wait after a small cycle for more rows to share the next one.
    public var groupCommit: GroupCommit
    /// How long relayed rows may stay in the outbox before the relay deletes them (see
    /// ``OutboxRelay/relayOnce(deletingAfter:)``); zero deletes them in every cycle.
    public var deleteDelay: Duration
    /// Whether a cycle that fails because the destination is unreachable (a Kafka cluster
    /// down: `RunnelError.Code.kafka`) is retried after a backoff — 1 s doubling up to 30 s,
    /// the backlog logged at each attempt — rather than ending the service. Its rows stay in
    /// the outbox meanwhile.
    public var retriesUnreachableDestination: Bool
    private let logger: Logger
    /// How soon the relay looks again after a wake-up that found no commit (a wake-up can come
    /// before its commit is visible), and the longest gap between such looks.
    private static let firstRecheck = Duration.milliseconds(1)
    private static let longestRecheck = Duration.milliseconds(64)

    /// Creates a follower for a relay.
    /// - Parameters:
    ///   - relay: The relay to run.
    ///   - idleCheckInterval: How often to look without a wake-up; nil picks 1 s where the
    ///     system has a file watcher and 10 ms where it does not.
    ///   - retriesUnreachableDestination: Whether a cycle that fails because the destination
    ///     cannot be reached is retried after a backoff instead of ending the service.
    ///   - groupCommit: How long to wait after a small cycle for more rows; ``GroupCommit/off``
    ///     starts every cycle at once.
    ///   - deleteDelay: How long relayed rows may stay in the outbox; zero deletes them in
    ///     every cycle.
    ///   - logger: Where the follower logs its progress and its stop.
    public init(relay: OutboxRelay, idleCheckInterval: Duration? = nil, retriesUnreachableDestination: Bool = false,
                groupCommit: GroupCommit = GroupCommit(), deleteDelay: Duration = .milliseconds(100),
                logger: Logger = Logger(label: "runnel.relay")) {
        self.relay = relay
        self.deleteDelay = deleteDelay
        self.idleCheckInterval = idleCheckInterval ?? FileWatcher.idleCheckInterval
        self.groupCommit = groupCommit
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
        // The relay listens for commits only while it waits for one. A busy relay looks again
        // after every cycle anyway, and a subscription wakes the watcher's thread for every
        // WAL write: writers committing back to back measured about a tenth of their rate lost
        // to those wake-ups.
        var subscription: FileWatcher.Subscription?
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
        // See the wait below; kept across cycles, so a wake-up whose look found another
        // commit still has its own commit looked for after the cycle. The start counts as a
        // wake-up, and so does every subscription (below).
        var recheck: Duration? = Self.firstRecheck
        var recheckUntil = ContinuousClock.now + idleCheckInterval
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let summary: OutboxRelay.Summary
            let cycleStarted = ContinuousClock.now
            do {
                summary = try relay.relayOnce(deletingAfter: deleteDelay)
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
            let moved = summary.relayed + summary.deadLettered + summary.skippedAsAlreadyInLog
            if moved > 0 {
                if let active = subscription {
                    FileWatcher.shared?.cancel(active)
                    subscription = nil
                }
                if let wait = groupCommit.wait(afterCycleOf: moved, took: ContinuousClock.now - cycleStarted, batchSize: relay.configuration.batchSize) {
                    try? await Task.sleep(for: wait)
                }
                continue
            }
            // Nothing pending: a moment the writers leave the database alone, to delete what
            // was relayed; then wait for a commit (below).
            try relay.deleteRelayed()
            if subscription == nil, let watcher = FileWatcher.shared {
                subscription = watcher.subscribe(signal, to: [home.url], names: names)
                // A commit whose frames reached the WAL before the subscription woke nobody, and
                // may be published only after the first look below: look again soon, as after a
                // wake-up, or nothing would wake the relay for it before the idle check.
                recheck = Self.firstRecheck
                recheckUntil = ContinuousClock.now + idleCheckInterval
            }
            // Wait until either database sees a commit. A wake-up can come
            // before the commit that caused it is visible: SQLite writes the commit's frames to
            // the WAL (which the file watcher sees), fsyncs them — which can take hundreds of
            // milliseconds on a busy disk — and only then publishes the commit in the WAL index,
            // a shared memory map whose writes no watcher reports. So after a wake-up that found
            // nothing new, look again after 1 ms, doubling up to 64 ms and then every 64 ms, for
            // one idle interval; otherwise such a commit would wait for the idle check unless
            // another commit came first.
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                let now = try watchers.map { try $0.read { try Int.fetchOne($0, sql: "PRAGMA data_version") } }
                if now != versions {
                    versions = now
                    break
                }
                let timeout = recheck ?? idleCheckInterval
                let waitStarted = ContinuousClock.now
                await signal.wait(timeout: timeout)
                let waitEnded = ContinuousClock.now
                if waitEnded - waitStarted < timeout {
                    recheck = Self.firstRecheck
                    recheckUntil = waitEnded + idleCheckInterval
                } else if let previous = recheck {
                    recheck = waitEnded < recheckUntil ? min(previous * 2, Self.longestRecheck) : nil
                }
            }
        }
        try relay.deleteRelayed()
        logger.info("relay stopping after its last batch")
    }
}

extension RelayService {
    /// When a following relay waits for more rows before its next cycle, so that writers
    /// committing one event at a time share the relay's fsyncs instead of each paying for a
    /// cycle of their own.
    ///
    /// After a cycle that moved fewer than ``smallCycleRows`` rows, the relay waits twice as long
    /// as that cycle took, bounded by ``minimumWait`` and ``maximumWait``: while the load is
    /// light the relay then spends at most about a third of its time in cycles (each holding
    /// the database's write lock for its delete, and fsyncing), and a row waits at most one wait
    /// and two cycles to reach the log. A cycle of ``smallCycleRows`` or more is followed by the
    /// next one at once.
    ///
    /// The defaults were chosen by measurement (`runnel-bench relay-writers`): waiting as long
    /// as the cycle, at most 2 ms, left writers committing one event at a time about 0.6 of
    /// their rate without a relay; twice as long, at most 5 ms, about 0.75, with commit → log
    /// p99 near 4 ms; longer waits added latency and little rate. Measured again once cycles
    /// stopped deleting (``RelayService/deleteDelay``) and the relay stopped watching while
    /// busy: twice as long gave about 0.87, four times as long from 1 ms about 0.90, for 2–3 ms
    /// more latency (p99 6–7 ms at 3K commits/s), so twice stayed.
    public struct GroupCommit: Sendable, Equatable {
        /// A cycle that moved fewer rows than this is followed by a wait.
        public var smallCycleRows: Int
        /// The shortest wait after a small cycle.
        public var minimumWait: Duration
        /// The longest wait after a small cycle: what group commit may add to a row's way to
        /// the log.
        public var maximumWait: Duration

        /// Creates a policy; the defaults suit a local disk (a cycle's two fsyncs take a
        /// fraction of a millisecond to a few milliseconds) and keep commit → log well under
        /// 10 ms.
        /// - Parameters:
        ///   - smallCycleRows: A cycle that moved fewer rows than this is followed by a wait.
        ///   - minimumWait: The shortest wait after a small cycle.
        ///   - maximumWait: The longest wait after a small cycle.
        public init(smallCycleRows: Int = 64, minimumWait: Duration = .microseconds(100), maximumWait: Duration = .milliseconds(5)) {
            self.smallCycleRows = smallCycleRows
            self.minimumWait = minimumWait
            self.maximumWait = max(minimumWait, maximumWait)
        }

        /// No waiting: every cycle starts as soon as the previous one ends.
        public static let off = GroupCommit(smallCycleRows: 0, minimumWait: .zero, maximumWait: .zero)

        /// How long to wait after a cycle that moved `rows` rows and took `took`, or nil to
        /// start the next cycle at once.
        /// - Parameters:
        ///   - rows: The rows the cycle moved (relayed, dead-lettered or found in the log).
        ///   - took: How long the cycle took.
        ///   - batchSize: The relay's rows per database and cycle: a cycle that moved that many
        ///     was full, however few, and more rows are likely waiting.
        /// - Returns: The wait, or nil.
        public func wait(afterCycleOf rows: Int, took: Duration, batchSize: Int = .max) -> Duration? {
            guard min(smallCycleRows, batchSize) > rows, maximumWait > .zero else { return nil }
            return min(max(took * 2, minimumWait), maximumWait)
        }
    }
}
