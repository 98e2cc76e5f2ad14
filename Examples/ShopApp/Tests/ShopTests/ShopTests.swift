import Foundation
import Runnel
import RunnelCLI
import RunnelTesting
import Shop
import ShopCLI
import Testing

@Suite struct ShopTests {
    /// The view's rows, decoded by the test driver.
    struct Revenue: Decodable, Equatable {
        var country: String
        var windowStart: Date
        var orders: Int64
        var refunds: Int64
        var netCents: Int64
        var refundRate: Double?
    }

    @Test func theCatalogIsValid() throws {
        try ShopCatalog.catalog.validate()
    }

    @Test func revenueNetsRefundsPerCountryAndHour() throws {
        let driver = try PipelineTestDriver(RevenuePipeline.pipeline)
        let nine = Date(timeIntervalSince1970: 1_772_442_000)
        for (id, country, cents) in [(1, "DE", 1_000), (2, "DE", 3_000), (3, "FR", 500)] as [(Int64, String, Int64)] {
            try driver.send(OrderPlaced(orderId: id, customerId: id, country: country, amountCents: cents, placedAt: nine), to: Shop.ordersTopic, at: nine)
        }
        let later = nine.addingTimeInterval(600)
        try driver.send(OrderRefunded(orderId: 2, country: "DE", amountCents: 3_000, reason: "late", refundedAt: later), to: Shop.ordersTopic, at: later)
        try driver.run()

        #expect(try driver.rows("revenue_by_country_1h", as: Revenue.self, orderBy: "country") == [
            Revenue(country: "DE", windowStart: nine, orders: 2, refunds: 1, netCents: 1_000, refundRate: 0.5),
            Revenue(country: "FR", windowStart: nine, orders: 1, refunds: 0, netCents: 500, refundRate: 0),
        ])
        #expect(try driver.deadLetters().isEmpty)
    }

    @Test func theAppsCommandLineRunsTheDemoAndItsOwnRefund() async throws {
        let home = try TemporaryHome(label: "shopctl")
        let path = home.home.url.path
        let (demo, output) = await shopctl(["demo", "--home", path])
        #expect(demo == 0, "\(output)")
        #expect(output.contains("== Runnel demo: shop"))
        #expect(output.contains("shopctl inspect table revenue_by_country_1h --db derived --limit 5"), "\(output)")

        let (refunded, refundOutput) = await shopctl(["refund", "1", "--reason", "test", "--home", path])
        #expect(refunded == 0, "\(refundOutput)")
        #expect(refundOutput.contains("Refunded order 1"))
        let (again, againOutput) = await shopctl(["refund", "1", "--home", path])
        #expect(again == 1)
        #expect(againOutput.contains("order 1 is refunded already"))
    }

    private func shopctl(_ arguments: [String]) async -> (Int32, String) {
        let output = Output()
        let status = await RunnelCommand.run(arguments, catalog: ShopCatalog.catalog, console: output.console, programName: "shopctl",
                                             commands: [RefundCommand.self])
        return (status, output.text)
    }
}

/// Collects what a command printed.
final class Output: @unchecked Sendable {
    // @unchecked: `text` is only touched under `lock`.
    private let lock = NSLock()
    private var collected = ""

    var console: Console {
        Console(output: { line in self.lock.withLock { self.collected += line } },
                error: { line in self.lock.withLock { self.collected += line } })
    }

    var text: String { lock.withLock { collected } }
}
