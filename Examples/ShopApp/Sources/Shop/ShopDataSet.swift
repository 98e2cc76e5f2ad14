import Foundation
import Runnel

/// A deterministic data set of orders and refunds for `shopctl sample load` and `shopctl demo`.
public struct ShopDataSet: SampleDataSet {
    /// One line: an order, or a refund of an earlier order.
    struct Operation: Codable {
        var op: String
        var order: OrderPlaced?
        var orderId: Int64?
        var reason: String?
        var at: Date
    }

    public init() {}

    public var name: String { "shop" }

    /// 20 customers over 3 hours from 2026-03-02 09:00 UTC, seed 7.
    public var defaultParameters: SampleParameters {
        SampleParameters(members: 20, hours: 3, seed: 7, start: Date(timeIntervalSince1970: 1_772_442_000))
    }

    public func generate(_ parameters: SampleParameters, into write: (String) throws -> Void) throws {
        let countries = ["DE", "FR", "NL", "PL"]
        var random = Xorshift(seed: parameters.seed)
        func next(_ bound: UInt64) -> UInt64 { random.next() % bound }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .millisecondsSince1970
        var placed: [OrderPlaced] = []
        let span = Int64(parameters.hours) * 3_600_000
        let orders = parameters.members * parameters.hours * 2
        for index in 0..<orders {
            let at = parameters.start.addingTimeInterval(Double(Int64(index) * span / Int64(orders)) / 1000)
            let customer = Int64(next(UInt64(parameters.members))) + 1
            let order = OrderPlaced(orderId: Int64(index + 1), customerId: customer, country: countries[Int(customer) % countries.count],
                                    amountCents: Int64(500 + next(20_000)), placedAt: at)
            placed.append(order)
            try write(String(decoding: try encoder.encode(Operation(op: "place", order: order, at: at)), as: UTF8.self))
            if index % 7 == 6, placed.count > 1 {
                let refunded = placed[Int(next(UInt64(placed.count - 1)))]
                try write(String(decoding: try encoder.encode(Operation(op: "refund", orderId: refunded.orderId, reason: "damaged", at: at)), as: UTF8.self))
                placed.removeAll { $0.orderId == refunded.orderId }
            }
        }
    }

    public func apply(_ line: String, outbox: Outbox, in db: Database) throws -> Int {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        let operation = try decoder.decode(Operation.self, from: Data(line.utf8))
        let shop = Shop(outbox: outbox)
        switch operation.op {
        case "place":
            guard let order = operation.order else { throw ShopError("a place line without an order: \(line)") }
            try shop.place(order, in: db)
        case "refund":
            guard let orderId = operation.orderId else { throw ShopError("a refund line without an order id: \(line)") }
            try shop.refund(orderId: orderId, reason: operation.reason ?? "unknown", at: operation.at, in: db)
        default:
            throw ShopError("unknown operation \(operation.op)")
        }
        return 1
    }
}

/// xorshift64*: the same seed gives the same lines on every machine.
struct Xorshift {
    private var state: UInt64

    init(seed: UInt64) { state = seed | 1 }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 2_685_821_657_736_338_717
    }
}
