import Foundation
import GRDB
import Runnel

/// The order saga of `saga`: its events, its 4 steps, the handlers that carry them out and the
/// business tables both sides fill.
enum SagaWorkload {
    struct OrderPlaced: Codable, Sendable { var orderId: Int; var cents: Int }
    struct OrderState: Codable, Sendable { var orderId: Int; var cents: Int }
    struct OrderCommand: Codable, Sendable { var orderId: Int; var cents: Int }
    struct OrderReply: Codable, Sendable { var orderId: Int }

    /// One step: its name, the topic its handler reads, its command and reply types, and the
    /// statement that writes its business row (`?1` the order, `?2` its amount).
    struct Step {
        var name: String
        var topic: String
        var command: String
        var reply: String
        var sql: String
    }

    static let steps = [
        Step(name: "reserve", topic: "order-stock", command: "ReserveStock", reply: "StockReserved",
             sql: "INSERT INTO reservations (order_id, quantity) VALUES (?1, 1 + ?2 % 3)"),
        Step(name: "charge", topic: "order-payments", command: "ChargeCard", reply: "CardCharged",
             sql: "INSERT INTO payments (order_id, cents) VALUES (?1, ?2)"),
        Step(name: "ship", topic: "order-shipping", command: "ShipOrder", reply: "OrderShipped",
             sql: "INSERT INTO shipments (order_id, carrier) VALUES (?1, 'carrier-' || (?2 % 4))"),
        Step(name: "confirm", topic: "order-confirmations", command: "ConfirmOrder", reply: "OrderConfirmed",
             sql: "UPDATE orders SET state = 'confirmed', confirmed_cents = ?2 WHERE order_id = ?1"),
    ]

    static let migrations = Migrations.embedded(["0001_orders.sql": Array("""
        CREATE TABLE orders (order_id INTEGER PRIMARY KEY, cents INTEGER NOT NULL, state TEXT NOT NULL, confirmed_cents INTEGER);
        CREATE TABLE reservations (order_id INTEGER PRIMARY KEY, quantity INTEGER NOT NULL);
        CREATE TABLE payments (order_id INTEGER PRIMARY KEY, cents INTEGER NOT NULL);
        CREATE TABLE shipments (order_id INTEGER PRIMARY KEY, carrier TEXT NOT NULL);
        """.utf8)])

    /// The amount of an order: the same on both sides.
    static func cents(_ order: Int) -> Int { 500 + (order * 7_919) % 50_000 }

    /// The saga. Timeouts are long: the bench measures the happy path, never a retry.
    static func saga(batch: Int) -> Saga {
        let build = { (step: Step) in
            SagaStep<OrderState>(step.name, to: step.topic, type: step.command) { OrderCommand(orderId: $0.orderId, cents: $0.cents) }
                .completed(by: OrderReply.self, type: step.reply)
                .timeout(.seconds(3_600), retry: .never)
        }
        return Saga("order", startedBy: "orders", on: OrderPlaced.self, batchSize: batch, id: { "\($0.orderId)" },
                    state: { OrderState(orderId: $0.orderId, cents: $0.cents) }) {
            build(steps[0])
            build(steps[1])
            build(steps[2])
            build(steps[3])
        }
    }

    /// A handler per step: writes its row and replies.
    static func handlers(batch: Int) -> [Handler] {
        steps.map { step in
            Handler(step.name, reads: step.topic, batchSize: batch) {
                On(OrderCommand.self, type: step.command) { command, context in
                    try context.db.cachedStatement(sql: step.sql).execute(arguments: [command.orderId, command.cents])
                    try context.reply(OrderReply(orderId: command.orderId), type: step.reply)
                }
            }
        }
    }

    /// Inserts orders 1 through `count` in transactions of `batch`, each with its start event
    /// when `announce` (Runnel's side).
    static func placeOrders(_ count: Int, batch: Int, in store: Store, announce: Bool = true) throws {
        let now = Date()
        var first = 1
        while first <= count {
            let last = min(first + batch - 1, count)
            try store.app.write { db in
                let insert = try db.cachedStatement(sql: "INSERT INTO orders (order_id, cents, state) VALUES (?, ?, 'placed')")
                for order in first...last {
                    try insert.execute(arguments: [order, cents(order)])
                    if announce {
                        try store.outbox.append(OutboxEvent(topic: "orders", key: "\(order)", payload: OrderPlaced(orderId: order, cents: cents(order)), eventTime: now), in: db)
                    }
                }
            }
            first = last + 1
        }
    }

    /// Checks that every order has its row of each step.
    /// - Throws: ``BenchmarkError`` naming the first table that differs.
    static func checkRows(_ count: Int, in store: Store, side: String) throws {
        let sql = """
            SELECT (SELECT count(*) FROM orders WHERE state = 'confirmed' AND confirmed_cents = cents), (SELECT count(*) FROM reservations),
                   (SELECT count(*) FROM payments), (SELECT count(*) FROM shipments), (SELECT total(cents) FROM payments)
            """
        guard let row = try store.app.read({ try Row.fetchOne($0, sql: sql) }) else { throw BenchmarkError("saga: cannot read \(side) rows") }
        let expectedCents = (1...count).reduce(0.0) { $0 + Double(cents($1)) }
        guard (0..<4).allSatisfy({ row[$0] as Int == count }), row[4] as Double == expectedCents else {
            throw BenchmarkError("saga: \(side) rows are confirmed \(row[0] as Int), reservations \(row[1] as Int), payments \(row[2] as Int), shipments \(row[3] as Int) (\(row[4] as Double) cents); expected \(count) each (\(expectedCents) cents)")
        }
    }
}
