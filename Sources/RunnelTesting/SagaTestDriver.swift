import Foundation
import GRDB
import Runnel

/// Runs a saga against a temporary home, for tests: start instances, let handlers answer or
/// answer commands yourself, move a manual clock past deadlines, and read the commands sent,
/// the instances and their timelines.
///
/// ```swift
/// let driver = try SagaTestDriver(UpgradeSaga.saga, handlers: [payments], migrations: migrations)
/// try driver.start(UpgradeRequested(upgradeId: 7, memberId: 42, cents: 999), key: "7")
/// try driver.run()
/// let charge = try #require(driver.commands(type: "ChargeCard").first)
/// try driver.reply(to: charge, with: CardCharged(upgradeId: 7, chargeId: "ch_1"))
/// try driver.advance(by: .seconds(31))          // the next step's reply does not come
/// #expect(try driver.instance("7")?.state == .compensated)
/// ```
///
/// Everything goes the production way: events through the app outbox, the real relay into the
/// home's log, the handlers' and the coordinator's runners over it. ``run()`` repeats relay,
/// handlers and coordinator until none of them has anything left to do.
public final class SagaTestDriver {
    public let home: TemporaryHome
    public let store: Store
    public let log: Log
    /// The clock deadlines are read from; ``advance(by:)`` moves it.
    public let clock: ManualClock
    public let saga: Saga
    private let drain: SagaDrain

    /// - Parameters:
    ///   - saga: The saga under test.
    ///   - handlers: Participants to run; commands to other topics wait for ``reply(to:with:type:)``.
    ///   - migrations: Business migrations for `app.sqlite` (the handlers' tables).
    ///   - start: Where the clock starts.
    public init(_ saga: Saga, handlers: [Handler] = [], migrations: Migrations? = nil,
                start: Date = Date(timeIntervalSince1970: 1_780_000_000)) throws {
        let home = try TemporaryHome(label: "saga")
        let store = try home.openStore(migrations: migrations)
        let clock = ManualClock(start)
        self.home = home
        self.store = store
        self.clock = clock
        log = try Log.open(home.home.logURL)
        self.saga = saga
        drain = try SagaDrain(relay: OutboxRelay(store: store, log: log), handlers: handlers, sagas: [saga], clock: clock)
    }

    deinit {
        try? log.close()
    }

    // MARK: - Input

    /// Commits an event through the app outbox, as application code would.
    public func send<Payload>(_ event: OutboxEvent<Payload>) throws {
        _ = try store.app.write { db in try store.outbox.append(event, in: db) }
    }

    /// Commits a start event of the saga (to its start topic, at the clock's time).
    public func start<Event: Encodable & Sendable>(_ event: Event, key: String? = nil, type: String? = nil) throws {
        try send(OutboxEvent(topic: saga.startTopic, key: key, type: type ?? saga.startType, payload: event, eventTime: clock.now()))
    }

    /// Answers a command the way a handler's `context.reply` would: to the saga's reply topic,
    /// keyed by the instance, with the command's id.
    public func reply<Reply: Encodable & Sendable>(to command: SentCommand, with reply: Reply, type: String = String(describing: Reply.self)) throws {
        try send(OutboxEvent(topic: saga.replyTopic, key: command.sagaID, type: type, payload: reply,
                             headers: [SagaHeader.sagaID: command.sagaID, SagaHeader.commandID: command.commandID], eventTime: clock.now()))
    }

    // MARK: - Running

    /// Relays, runs the handlers and the coordinator, again and again until none has work.
    /// - Returns: What the coordinator did in all.
    @discardableResult
    public func run() throws -> SagaCoordinator.Summary {
        try drain.run().coordinated
    }

    /// Moves the clock forward and runs.
    @discardableResult
    public func advance(by span: Duration) throws -> SagaCoordinator.Summary {
        clock.advance(by: span)
        return try run()
    }

    // MARK: - Output

    /// The commands (and compensations) the saga sent, in the order the log holds them per
    /// topic, optionally only those of one `type`.
    public func commands(type: String? = nil) throws -> [SentCommand] {
        var topics = Set<String>()
        for step in saga.stepSummaries {
            topics.insert(step.commandTopic)
            if let topic = step.compensationTopic { topics.insert(topic) }
        }
        var found: [SentCommand] = []
        for name in topics.sorted() {
            guard let topic = try log.topic(name) else { continue }
            for partition in topic.partitions {
                try partition.forEachRecord(from: partition.startOffset, maxBytes: .max) { view in
                    let record = view.record
                    var headers: [String: String] = [:]
                    for header in record.headers { headers[header.key] = header.value.map { String(decoding: $0, as: UTF8.self) } }
                    guard let sagaID = headers[SagaHeader.sagaID], let commandID = headers[SagaHeader.commandID] else { return true }
                    let command = SentCommand(topic: name, type: headers["type"] ?? "", sagaID: sagaID, commandID: commandID,
                                              attempt: headers[SagaHeader.attempt].flatMap { Int($0) } ?? 1,
                                              payload: record.value.map { String(decoding: $0, as: UTF8.self) } ?? "")
                    if type == nil || command.type == type { found.append(command) }
                    return true
                }
            }
        }
        return found
    }

    /// An instance by its business id (`"7"`) or its whole id (`"premium-upgrade:7"`).
    public func instance(_ id: String) throws -> SagaInstanceRecord? {
        try store.app.read { try SagaRecords.instance(self.fullID(id), in: $0) }
    }

    /// An instance's timeline, in order.
    public func timeline(_ id: String) throws -> [SagaLogEntry] {
        try store.app.read { try SagaRecords.timeline(self.fullID(id), in: $0) }
    }

    /// The kinds of an instance's timeline entries, in order: `["started", "command", "reply", …]`.
    public func kinds(_ id: String) throws -> [String] {
        try timeline(id).map(\.kind)
    }

    /// Operator: aborts a running instance.
    public func abort(_ id: String, reason: String = "test") throws {
        try SagaCoordinator.abort(fullID(id), of: saga, in: store, reason: reason, clock: clock)
    }

    /// Operator: sends a failed instance's compensation again.
    public func retry(_ id: String) throws {
        try SagaCoordinator.retry(fullID(id), of: saga, in: store, clock: clock)
    }

    /// The rows an SQL query on `app.sqlite` returns, with plain Swift values by column name.
    public func query(_ sql: String) throws -> [TestRow] {
        try store.app.read { db in try Row.fetchAll(db, sql: sql).map(TestRow.init) }
    }

    private func fullID(_ id: String) -> String {
        id.hasPrefix("\(saga.name):") ? id : "\(saga.name):\(id)"
    }
}

/// A command (or compensation) a saga sent, as the log holds it.
public struct SentCommand: Sendable, Hashable {
    public var topic: String
    public var type: String
    public var sagaID: String
    /// The same on every retry.
    public var commandID: String
    public var attempt: Int
    /// The payload's JSON.
    public var payload: String

    /// The payload decoded as `type`.
    public func decode<T: Decodable>(as type: T.Type) throws -> T {
        try Outbox.makeDecoder().decode(T.self, from: Data(payload.utf8))
    }
}
