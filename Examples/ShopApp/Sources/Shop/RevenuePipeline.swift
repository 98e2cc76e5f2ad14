import Foundation
import Runnel

/// Revenue and refunds per country per hour, with the share of orders refunded.
public enum RevenuePipeline {
    /// An order event of either kind, after the merge.
    public struct Sale: Sendable {
        public enum Kind: Sendable { case placed, refunded }
        public var country: String
        public var kind: Kind
        public var cents: Int64
    }

    public static let pipeline = Pipeline("revenue-by-country-1h", version: 1, description: "Orders, refunds and revenue per country per hour (view revenue_by_country_1h)") {
        Source(Shop.ordersTopic, as: OrderPlaced.self, time: \.placedAt)
            .map { Sale(country: $0.country, kind: .placed, cents: $0.amountCents) }
            .merge(Source(Shop.ordersTopic, as: OrderRefunded.self, time: \.refundedAt)
                .map { Sale(country: $0.country, kind: .refunded, cents: -$0.amountCents) })
            .keyBy("country", \.country)
            .window(.tumbling(.hours(1)), lateness: .minutes(10)) {
                Count("orders", where: { $0.kind == .placed })
                Count("refunds", where: { $0.kind == .refunded })
                Sum("net_cents", \.cents)
            }
            .ratio("refund_rate", "refunds", over: "orders")
            .into(ReadView("revenue_by_country_1h", primaryKey: ["country", "window_start"]))
    }
}
