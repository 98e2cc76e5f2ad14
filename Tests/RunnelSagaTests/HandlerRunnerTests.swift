import Foundation
import GRDB
import Runnel
import RunnelTesting
import Synchronization
import Testing

/// A handler applies each command once: a retried command id it completed is ignored, one it
/// refused is handled again; a record it cannot take is dead-lettered with its changes rolled
/// back while the rest of the batch commits; and its offsets commit with its changes.
@Suite struct HandlerRunnerTests {
    @Test func aRetriedCommandIsAppliedOnceAndCountedAsADuplicate() throws {
        let driver = try SagaTestDriver(TripSaga.saga(), handlers: TripSaga.handlers, migrations: TripSaga.migrations)
        try driver.start(TripBooked(tripId: 30, traveller: "max"), key: "30")
        try driver.run()
        #expect(try driver.instance("30")?.state == .completed)
        let timeline = try driver.timeline("30")

        // The saga's first command delivered again, as a retry after a slow answer would be.
        let book = try driver.latest("BookFlight", trip: 30)
        try driver.send(OutboxEvent(topic: book.topic, key: book.sagaID, type: book.type, payload: BookFlight(tripId: 30), headers: [
            SagaHeader.sagaID: book.sagaID, SagaHeader.commandID: book.commandID, SagaHeader.replyTo: driver.saga.replyTopic, SagaHeader.attempt: "2",
        ], eventTime: driver.clock.now()))
        try driver.run()

        #expect(try driver.query("SELECT count(*) AS n FROM bookings WHERE trip_id = 30 AND kind = 'flight'").first?["n"] == 1)
        let flights = try #require(try driver.query("SELECT * FROM runnel_consumers WHERE consumer = 'handler:flights'").first)
        #expect(flights["records"] == 2)
        #expect(flights["handled"] == 1)
        #expect(flights["duplicates"] == 1)
        // Ignored, so not answered again: the saga hears nothing more.
        #expect(try driver.timeline("30") == timeline)
    }

    @Test func aRefusedCommandIsHandledAgainWhenRetried() throws {
        let driver = try SagaTestDriver(TripSaga.saga(compensationRetry: .attempts(3, backoff: .seconds(1))),
                                        handlers: TripSaga.handlers, migrations: TripSaga.migrations)
        _ = try driver.store.app.write { db in
            try db.execute(sql: "INSERT INTO full_trips VALUES (31, 'hotel')")
            try db.execute(sql: "INSERT INTO cancel_refusals VALUES (31, 2)")
        }
        try driver.start(TripBooked(tripId: 31, traveller: "ned"), key: "31")
        try driver.run()
        try driver.advance(by: .seconds(1))
        try driver.advance(by: .seconds(2))

        #expect(try driver.instance("31")?.state == .compensated)
        let cancels = try driver.commands("CancelFlight", trip: 31)
        #expect(cancels.map(\.attempt) == [1, 2, 3])
        #expect(Set(cancels.map(\.commandID)).count == 1)
        #expect(try driver.query("SELECT remaining FROM cancel_refusals").first?["remaining"] == 0)
        #expect(try driver.query("SELECT kind || ':' || action AS what FROM bookings ORDER BY rowid").map { $0["what"] } == ["flight:book", "flight:cancel"])
        let flights = try #require(try driver.query("SELECT * FROM runnel_consumers WHERE consumer = 'handler:flights'").first)
        #expect(flights["handled"] == 4)
        #expect(flights["duplicates"] == 0)
        #expect(try driver.query("SELECT command_id FROM runnel_handled_commands WHERE handler = 'flights' ORDER BY command_id").map { $0["command_id"] }
                == ["trip:31/0/do", "trip:31/0/undo"])
    }

    @Test func recordsItCannotTakeAreDeadLetteredWhileTheBatchCommits() throws {
        let driver = try SagaTestDriver(TripSaga.saga(), handlers: [Ledger.handler()], migrations: Ledger.migrations)
        let now = driver.clock.now()
        try driver.send(OutboxEvent(topic: "ledger", key: "a", payload: Deposit(id: 1, cents: 100), eventTime: now))
        try driver.send(OutboxEvent(topic: "ledger", key: "a", type: "Deposit", payload: ["id": "two"], eventTime: now))
        try driver.send(OutboxEvent(topic: "ledger", key: "a", payload: Deposit(id: 3, cents: -5), eventTime: now))
        try driver.send(OutboxEvent(topic: "ledger", key: "a", payload: Tip(id: 4), eventTime: now))
        try driver.send(OutboxEvent(topic: "ledger", key: "a", payload: Deposit(id: 5, cents: 700), eventTime: now))
        try driver.send(OutboxEvent(topic: "ledger", key: "a", type: "Unrelated", payload: Tip(id: 6), eventTime: now))
        try driver.run()

        // The good records committed, before and after the bad ones; the throwing body's insert
        // and the tip's were rolled back.
        #expect(try driver.query("SELECT id FROM deposits ORDER BY id").map { $0["id"] } == [1, 5])
        let letters = try driver.query("SELECT * FROM runnel_consumer_dead_letters ORDER BY \"offset\"")
        #expect(letters.map { $0["consumer"] } == ["handler:ledger", "handler:ledger", "handler:ledger"])
        #expect(letters.map { $0["offset"] } == [1, 2, 3])
        let reasons = letters.compactMap { $0["reason"]?.string }
        #expect(reasons.count == 3)
        #expect(reasons.first?.hasPrefix("does not decode as Deposit") == true)
        #expect(reasons.dropFirst().first == "the handler threw: negative deposit 3")
        #expect(reasons.last?.contains("is not a saga's command") == true)
        #expect(reasons.last?.contains("no one to reply to") == true)
        #expect(letters.first?["payload"] == "{\"id\":\"two\"}")
        let ledger = try #require(try driver.query("SELECT * FROM runnel_consumers WHERE consumer = 'handler:ledger'").first)
        #expect(ledger["records"] == 6)
        #expect(ledger["handled"] == 2)
        #expect(ledger["skipped"] == 1)
        #expect(ledger["dead_letters"] == 3)
    }

    @Test func aHandlerAppliesEachRecordOnceAcrossAFailedBatchAndRestarts() throws {
        let home = try TemporaryHome(label: "handler-restart")
        let store = try home.openStore(migrations: Ledger.migrations)
        let log = try Log.open(home.home.logURL)
        defer { try? log.close() }
        _ = try store.app.write { db in
            for id in 1...3 { try store.outbox.append(OutboxEvent(topic: "ledger", key: "a", payload: Deposit(id: id, cents: 10), eventTime: Date()), in: db) }
        }
        _ = try OutboxRelay(store: store, log: log).drain()
        let diskFull = Switch(on: true)
        let handler = Ledger.handler(failing: diskFull)

        // The disk fills on the second record: the whole batch rolls back, offsets included.
        do {
            let runner = try HandlerRunner(handler: handler, store: store)
            #expect(throws: (any Error).self) { try runner.runBatch() }
        }
        #expect(try Self.deposits(store) == [])

        // A new runner (a restart) takes the batch again, once.
        diskFull.turn(on: false)
        do {
            let runner = try HandlerRunner(handler: handler, store: store)
            #expect(try runner.runToEnd().handled == 3)
        }
        #expect(try Self.deposits(store) == [1, 2, 3])

        // And after that restart there is nothing left to read.
        do {
            let runner = try HandlerRunner(handler: handler, store: store)
            #expect(try runner.backlog() == 0)
            let again = try runner.runToEnd()
            #expect(again.records == 0)
            #expect(again.handled == 0)
        }
        #expect(try Self.deposits(store) == [1, 2, 3])
    }

    static func deposits(_ store: Store) throws -> [Int] {
        try store.app.read { try Int.fetchAll($0, sql: "SELECT id FROM deposits ORDER BY id") }
    }
}

struct Deposit: Codable, Sendable { var id: Int; var cents: Int }
struct Tip: Codable, Sendable { var id: Int }
struct DepositAccepted: Codable, Sendable { var id: Int }
struct NegativeDeposit: Error, CustomStringConvertible {
    var id: Int
    var description: String { "negative deposit \(id)" }
}

/// A handler of plain events (no saga): deposits become rows.
enum Ledger {
    static let migrations = Migrations.embedded(["0001_ledger.sql": Array("""
        CREATE TABLE deposits (id INTEGER PRIMARY KEY, cents INTEGER NOT NULL);
        """.utf8)])

    /// - Parameter failing: While true, the second deposit fails as a full disk does.
    static func handler(failing: Switch? = nil) -> Handler {
        Handler("ledger", reads: "ledger") {
            On(Deposit.self) { deposit, context in
                try context.db.execute(sql: "INSERT INTO deposits (id, cents) VALUES (?, ?)", arguments: [deposit.id, deposit.cents])
                if deposit.cents < 0 { throw NegativeDeposit(id: deposit.id) }
                if deposit.id == 2, failing?.isOn == true { throw DatabaseError(resultCode: .SQLITE_FULL, message: "database or disk is full") }
            }
            On(Tip.self) { tip, context in
                try context.db.execute(sql: "INSERT INTO deposits (id, cents) VALUES (?, 0)", arguments: [tip.id])
                try context.reply(DepositAccepted(id: tip.id))
            }
        }
    }
}

/// A flag a test flips while a handler reads it.
final class Switch: Sendable {
    private let state: Mutex<Bool>

    init(on: Bool) { state = Mutex(on) }

    var isOn: Bool { state.withLock { $0 } }

    func turn(on: Bool) { state.withLock { $0 = on } }
}
