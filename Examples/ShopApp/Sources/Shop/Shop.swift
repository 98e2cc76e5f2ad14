import Foundation
import Runnel

/// The shop's business operations. Each one changes the `orders` table and announces what
/// happened through the outbox in the caller's transaction, so both commit or neither does.
public struct Shop: Sendable {
    /// The topic every order event goes to, keyed by order id.
    public static let ordersTopic = "orders"

    let outbox: Outbox

    public init(outbox: Outbox) {
        self.outbox = outbox
    }

    /// Places an order.
    public func place(_ order: OrderPlaced, in db: Database) throws {
        try db.execute(sql: """
            INSERT INTO orders (order_id, customer_id, country, amount_cents, placed_at) VALUES (?, ?, ?, ?, ?)
            """, arguments: [order.orderId, order.customerId, order.country, order.amountCents, order.placedAt.millisecondsSince1970])
        try outbox.append(OutboxEvent(topic: Self.ordersTopic, key: "\(order.orderId)", payload: order, eventTime: order.placedAt), in: db)
    }

    /// Refunds an order in full.
    /// - Throws: ``ShopError`` when there is no such order or it was refunded already.
    @discardableResult
    public func refund(orderId: Int64, reason: String, at time: Date, in db: Database) throws -> OrderRefunded {
        guard let row = try Row.fetchOne(db, sql: "SELECT country, amount_cents, refunded_at FROM orders WHERE order_id = ?", arguments: [orderId]) else {
            throw ShopError("no order \(orderId)")
        }
        guard row["refunded_at"] as Int64? == nil else { throw ShopError("order \(orderId) is refunded already") }
        try db.execute(sql: "UPDATE orders SET refunded_at = ?, refund_reason = ? WHERE order_id = ?",
                       arguments: [time.millisecondsSince1970, reason, orderId])
        let refund = OrderRefunded(orderId: orderId, country: row["country"], amountCents: row["amount_cents"], reason: reason, refundedAt: time)
        try outbox.append(OutboxEvent(topic: Self.ordersTopic, key: "\(orderId)", payload: refund, eventTime: time), in: db)
        return refund
    }
}

/// A business rule the shop refused, with what was wrong.
public struct ShopError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
