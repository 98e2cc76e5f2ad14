import Foundation
import GRDB
import Logging

/// Runs a ``Handler`` over the log: each batch of records, their business changes, their
/// replies and the handler's offsets commit in one `app.sqlite` transaction.
///
/// ```swift
/// let runner = try HandlerRunner(handler: emailHandler, store: store)
/// let done = try runner.runToEnd()
/// print(done.handled, done.duplicates, done.deadLetters)
/// ```
///
/// The runner holds the handler's lock while it lives: a second runner of the same handler, in
/// this process or another, is refused.
public final class HandlerRunner {
    /// What a batch (or a run) did.
    public struct Summary: Sendable, Hashable {
        /// An empty summary.
        public init() {}

        /// Records read.
        public var records = 0
        /// Records an ``On`` ran for and committed.
        public var handled = 0
        /// Commands whose id the handler had already completed: ignored.
        public var duplicates = 0
        /// Records of types no ``On`` takes.
        public var skipped = 0
        /// Records that did not decode or whose body threw.
        public var deadLetters = 0

        /// Adds another summary's counts to this one.
        public mutating func add(_ other: Summary) {
            records += other.records
            handled += other.handled
            duplicates += other.duplicates
            skipped += other.skipped
            deadLetters += other.deadLetters
        }
    }

    public let handler: Handler
    public let store: Store
    let consumer: AppLogConsumer
    private let clock: any WallClock
    private let logger: Logger
    private let lock: RunnerLock
    /// Made once per runner, fed once per commit.
    private let metrics: HandlerMetrics

    /// Crash tests aim kills at the moment a batch's business rows, replies and offsets are
    /// written but not committed (`FaultPoint`).
    static let pauseBeforeCommit = FaultPoint("handler-before-commit")

    /// The consumer name of a handler in `runnel_consumer_offsets` and `runnel_consumers`.
    package static func consumerName(_ handler: String) -> String { "handler:\(handler)" }

    /// Creates a runner and takes the handler's lock.
    /// - Parameters:
    ///   - handler: The handler.
    ///   - store: The home's databases.
    ///   - clock: The clock that gives replies their event time.
    ///   - logger: Where dead letters are logged.
    ///   - source: Where to read: nil for the home's log, or a Kafka cluster (RunnelKafka's `RecordSource.kafka`).
    /// - Throws: ``RunnelError`` `.concurrentRunner` when another runner holds the handler;
    ///   `.saga` for an invalid handler.
    public convenience init(handler: Handler, store: Store, clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "runnel.handler"),
                            source: RecordSource? = nil) throws {
        try handler.validate()
        try self.init(handler: handler, store: store, clock: clock, logger: logger, holding: RunnerLock.acquire(.handler, named: handler.name, in: store.home),
                      source: source)
    }

    /// A runner under a lock the caller already holds for the handler (`runnel run` takes
    /// every lock before it runs anything).
    package init(handler: Handler, store: Store, clock: any WallClock, logger: Logger, holding lock: RunnerLock, source: RecordSource? = nil) throws {
        try handler.validate()
        self.handler = handler
        self.store = store
        self.clock = clock
        self.logger = logger
        self.lock = lock
        metrics = HandlerMetrics(handler: handler.name)
        consumer = try AppLogConsumer(name: Self.consumerName(handler.name), topics: handler.topics, store: store, logger: logger, source: source)
    }

    /// Records left between the handler's offsets and the log's end.
    public func backlog() throws -> Int64 { try consumer.backlog() }

    /// The folders a follower watches.
    package var inputFolders: [URL] { consumer.inputFolders }

    /// Reads and commits one batch.
    /// - Returns: What it did; `records` is 0 when the handler is at the log's end.
    @discardableResult
    public func runBatch() throws -> Summary {
        let records = try consumer.read(limit: handler.batchSize)
        guard !records.isEmpty || consumer.hasPendingOffsets else { return Summary() }
        let now = clock.now()
        var failures: [(ConsumedRecord, String)] = []
        let summary: Summary
        do {
            summary = try RunnelError.naming(store.app.path, "committing a batch of handler \(handler.name)") {
                try store.app.write { db in
                    failures = []
                    var summary = Summary()
                    summary.records = records.count
                    let remember = try db.cachedStatement(sql: "INSERT OR IGNORE INTO runnel_handled_commands (handler, command_id, handled_at) VALUES (?, ?, ?)")
                    for record in records {
                        guard let route = handler.routes[record.type] else {
                            summary.skipped += 1
                            continue
                        }
                        guard let value = record.value else {
                            failures.append((record, "a tombstone (no value) where a \(record.type) was expected"))
                            continue
                        }
                        let commandID = record.headers[SagaHeader.commandID]
                        var failure: String?
                        try db.inSavepoint {
                            if let commandID {
                                try remember.execute(arguments: [handler.name, commandID, now.millisecondsSince1970])
                                guard db.changesCount > 0 else {
                                    summary.duplicates += 1
                                    return .commit
                                }
                            }
                            let context = HandlerContext(db: db, record: record, now: now, outbox: store.outbox)
                            do {
                                try route.run(value, context)
                            } catch let undecodable as HandlerRoute.Undecodable {
                                failure = undecodable.reason
                                return .rollback
                            } catch let error as DatabaseError where Self.endsTransaction(error) {
                                throw error
                            } catch {
                                failure = "the handler threw: \(error)"
                                return .rollback
                            }
                            if context.failed, let commandID {
                                try db.execute(sql: "DELETE FROM runnel_handled_commands WHERE handler = ? AND command_id = ?", arguments: [handler.name, commandID])
                            }
                            summary.handled += 1
                            return .commit
                        }
                        if let failure { failures.append((record, failure)) }
                    }
                    summary.deadLetters = failures.count
                    for (record, reason) in failures { try consumer.deadLetter(record, reason: reason, at: now, in: db) }
                    try consumer.save(in: db)
                    try consumer.count(records: summary.records, handled: summary.handled, duplicates: summary.duplicates,
                                       skipped: summary.skipped, deadLetters: summary.deadLetters, at: now, in: db)
                    Self.pauseBeforeCommit.reach()
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
            logger.warning("handler dead-lettered a record", metadata: [
                "handler": "\(handler.name)", "handler.position": "\(record.position)", "handler.type": "\(record.type)", "handler.reason": "\(reason)",
            ])
        }
        return summary
    }

    /// Runs batches until the handler is at the end the log had when the run began.
    public func runToEnd() throws -> Summary {
        var total = Summary()
        while true {
            let batch = try runBatch()
            total.add(batch)
            if batch.records == 0 { return total }
        }
    }

    /// Errors after which SQLite has rolled the whole transaction back: they cannot be treated
    /// as one record's failure.
    static func endsTransaction(_ error: DatabaseError) -> Bool {
        [.SQLITE_FULL, .SQLITE_IOERR, .SQLITE_BUSY, .SQLITE_NOMEM, .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_INTERRUPT].contains(error.resultCode)
    }
}
