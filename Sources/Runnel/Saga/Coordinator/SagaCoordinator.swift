import Foundation
import GRDB
import Logging

/// Runs a ``Saga``: starts an instance for each start event, applies its participants' replies,
/// and acts on deadlines (a reply that did not come in time, a retry to send). Each batch — the
/// instances' new states, their timeline entries, the commands they send and the coordinator's
/// offsets — commits in one `app.sqlite` transaction, so a crash replays the batch and never
/// sends a command twice.
///
/// ```swift
/// let coordinator = try SagaCoordinator(saga: upgrade, store: store)
/// let done = try coordinator.runToEnd()
/// print(done.started, done.completed, done.compensated)
/// ```
///
/// Deadlines are read from the clock it is given (``SystemWallClock`` by default, a manual
/// clock in tests). The coordinator holds the saga's lock while it lives: a second coordinator
/// of the same saga is refused.
public final class SagaCoordinator {
    /// What a batch (or a run) did.
    public struct Summary: Sendable, Hashable {
        /// An empty summary.
        public init() {}

        /// Records read (start events, replies, and others on those topics).
        public var records = 0
        public var started = 0
        /// Start events for an instance that already exists: ignored and recorded.
        public var duplicateStarts = 0
        /// Replies read.
        public var replies = 0
        /// Replies ignored and recorded: duplicates, late replies, and replies nothing awaits.
        public var ignoredReplies = 0
        public var commandsSent = 0
        public var compensationsSent = 0
        public var timeouts = 0
        public var retries = 0
        public var completed = 0
        public var compensated = 0
        public var failed = 0
        /// Records that could not be read as a start event or a reply.
        public var deadLetters = 0

        /// Whether the batch did anything.
        public var isEmpty: Bool { self == Summary() }

        /// Adds another summary's counts to this one.
        public mutating func add(_ other: Summary) {
            records += other.records
            started += other.started
            duplicateStarts += other.duplicateStarts
            replies += other.replies
            ignoredReplies += other.ignoredReplies
            commandsSent += other.commandsSent
            compensationsSent += other.compensationsSent
            timeouts += other.timeouts
            retries += other.retries
            completed += other.completed
            compensated += other.compensated
            failed += other.failed
            deadLetters += other.deadLetters
        }
    }

    public let saga: Saga
    public let store: Store
    let consumer: AppLogConsumer
    let clock: any WallClock
    private let logger: Logger
    private let lock: RunnerLock
    /// Made once per coordinator, fed once per commit.
    private let metrics: SagaMetrics

    /// Crash tests aim kills at the moment a batch's instance changes, commands and offsets
    /// are written but not committed (`FaultPoint`).
    static let pauseBeforeCommit = FaultPoint("saga-before-commit")

    /// The consumer name of a saga's coordinator in `runnel_consumer_offsets`.
    package static func consumerName(_ saga: String) -> String { "saga:\(saga)" }

    /// Creates a coordinator and takes the saga's lock.
    /// - Parameters:
    ///   - saga: The saga.
    ///   - store: The home's databases.
    ///   - clock: The clock deadlines are read from.
    ///   - logger: Where dead letters and failed sagas are logged.
    ///   - source: Where to read: nil for the home's log, or a Kafka cluster (RunnelKafka's `RecordSource.kafka`).
    /// - Throws: ``RunnelError`` `.concurrentRunner` when another coordinator holds the saga;
    ///   `.saga` for an invalid saga.
    public convenience init(saga: Saga, store: Store, clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "runnel.saga"),
                            source: RecordSource? = nil) throws {
        try saga.validate()
        try self.init(saga: saga, store: store, clock: clock, logger: logger, holding: RunnerLock.acquire(.saga, named: saga.name, in: store.home),
                      source: source)
    }

    /// A coordinator under a lock the caller already holds for the saga (`runnel run` takes
    /// every lock before it runs anything).
    package init(saga: Saga, store: Store, clock: any WallClock, logger: Logger, holding lock: RunnerLock, source: RecordSource? = nil) throws {
        try saga.validate()
        self.saga = saga
        self.store = store
        self.clock = clock
        self.logger = logger
        self.lock = lock
        metrics = SagaMetrics(saga: saga.name)
        let topics = saga.startTopic == saga.replyTopic ? [saga.startTopic] : [saga.startTopic, saga.replyTopic]
        consumer = try AppLogConsumer(name: Self.consumerName(saga.name), topics: topics, store: store, logger: logger, source: source)
    }

    /// Records left between the coordinator's offsets and the log's end.
    public func backlog() throws -> Int64 { try consumer.backlog() }

    /// The folders a follower watches.
    package var inputFolders: [URL] { consumer.inputFolders }

    /// The earliest deadline of an instance of the saga, or nil when none waits for one.
    public func nextDeadline() throws -> Date? {
        try store.app.read { db in
            try Int64.fetchOne(db, sql: "SELECT MIN(deadline) FROM runnel_sagas WHERE saga = ? AND deadline IS NOT NULL", arguments: [saga.name])
        }.map(Date.init(millisecondsSince1970:))
    }

    /// Reads and commits one batch: records past the offsets, then the deadlines that have come.
    /// - Returns: What it did; ``Summary/isEmpty`` when there was nothing to do.
    @discardableResult
    public func runBatch() throws -> Summary {
        let records = try consumer.read(limit: saga.batchSize)
        let now = clock.now()
        if records.isEmpty, !consumer.hasPendingOffsets {
            guard let next = try nextDeadline(), next <= now else { return Summary() }
        }
        var failures: [(ConsumedRecord, String)] = []
        let summary: Summary
        do {
            summary = try RunnelError.naming(store.app.path, "committing a batch of saga \(saga.name)") {
                try store.app.write { db in
                    failures = []
                    var machine = SagaMachine(saga: saga, db: db, now: now, outbox: store.outbox)
                    var instances: [String: SagaInstance] = [:]
                    func instance(_ id: String) throws -> SagaInstance? {
                        if let cached = instances[id] { return cached }
                        return try SagaInstance.load(id, in: db)
                    }
                    for record in records {
                        do {
                            if record.topic == saga.startTopic, record.type == saga.startType {
                                guard let value = record.value else { throw HandlerRoute.Undecodable(reason: "a start event without a value") }
                                let (business, state) = try saga.begin(value)
                                let id = "\(saga.name):\(business)"
                                instances[id] = try machine.start(id: id, state: state, existing: try instance(id), position: record.position)
                            } else if record.topic == saga.replyTopic {
                                guard let sagaID = record.headers[SagaHeader.sagaID] ?? record.key, let commandID = record.headers[SagaHeader.commandID] else {
                                    throw HandlerRoute.Undecodable(reason: "a reply without the \(SagaHeader.sagaID) and \(SagaHeader.commandID) headers a handler's context.reply gives")
                                }
                                guard var found = try instance(sagaID), found.saga == saga.name else {
                                    machine.counts.replies += 1
                                    machine.counts.ignoredReplies += 1
                                    try machine.noteUnknown(sagaID: sagaID, commandID: commandID, type: record.type,
                                                            detail: "no saga instance \(sagaID) of \(saga.name); ignored (\(record.position))")
                                    continue
                                }
                                try machine.reply(&found, commandID: commandID, type: record.type, value: record.value, position: record.position)
                                instances[sagaID] = found
                            }
                        } catch let undecodable as HandlerRoute.Undecodable {
                            failures.append((record, undecodable.reason))
                        }
                    }
                    // Deadlines that have come, earliest first, for instances the batch has
                    // not already changed to a later deadline; only once the records are read
                    // to the log's end, so a backlog of replies is taken before anything times out.
                    let due = records.count >= saga.batchSize ? [] : try String.fetchAll(db, sql: """
                        SELECT id FROM runnel_sagas WHERE saga = ? AND deadline IS NOT NULL AND deadline <= ? ORDER BY deadline LIMIT ?
                        """, arguments: [saga.name, now.millisecondsSince1970, saga.batchSize])
                    for id in due {
                        guard var found = try instance(id), let deadline = found.deadline, deadline <= now.millisecondsSince1970 else { continue }
                        try machine.deadlinePassed(&found)
                        instances[id] = found
                    }
                    for var changed in instances.values {
                        changed.version += 1
                        changed.updatedAt = now.millisecondsSince1970
                        try changed.save(in: db)
                    }
                    var summary = machine.counts
                    summary.records = records.count
                    summary.deadLetters = failures.count
                    for (record, reason) in failures { try consumer.deadLetter(record, reason: reason, at: now, in: db) }
                    try consumer.save(in: db)
                    if !summary.isEmpty {
                        try consumer.count(records: records.count, handled: records.count - failures.count, deadLetters: failures.count, at: now, in: db)
                        Self.pauseBeforeCommit.reach()
                    }
                    return summary
                }
            }
        } catch {
            consumer.rolledBack()
            throw error
        }
        consumer.committed()
        metrics.committed(summary, lag: consumer.knownBacklog)
        for (record, reason) in failures {
            logger.warning("saga coordinator dead-lettered a record", metadata: [
                "saga": "\(saga.name)", "saga.position": "\(record.position)", "saga.type": "\(record.type)", "saga.reason": "\(reason)",
            ])
        }
        if summary.failed > 0 {
            logger.error("saga instances failed: a compensation was refused or unanswered on its last attempt", metadata: [
                "saga": "\(saga.name)", "saga.failed": "\(summary.failed)",
            ])
        }
        return summary
    }

    /// Runs batches until there is nothing to read and no deadline has come.
    public func runToEnd() throws -> Summary {
        var total = Summary()
        while true {
            let batch = try runBatch()
            total.add(batch)
            if batch.isEmpty { return total }
        }
    }
}
