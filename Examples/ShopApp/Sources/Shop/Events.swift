import Foundation

/// `orders` · an order was placed.
public struct OrderPlaced: Codable, Sendable, Hashable {
    public var orderId: Int64
    public var customerId: Int64
    public var country: String
    public var amountCents: Int64
    public var placedAt: Date

    public init(orderId: Int64, customerId: Int64, country: String, amountCents: Int64, placedAt: Date) {
        self.orderId = orderId
        self.customerId = customerId
        self.country = country
        self.amountCents = amountCents
        self.placedAt = placedAt
    }
}

/// `orders` · an order was refunded in full.
public struct OrderRefunded: Codable, Sendable, Hashable {
    public var orderId: Int64
    public var country: String
    public var amountCents: Int64
    public var reason: String
    public var refundedAt: Date

    public init(orderId: Int64, country: String, amountCents: Int64, reason: String, refundedAt: Date) {
        self.orderId = orderId
        self.country = country
        self.amountCents = amountCents
        self.reason = reason
        self.refundedAt = refundedAt
    }
}
