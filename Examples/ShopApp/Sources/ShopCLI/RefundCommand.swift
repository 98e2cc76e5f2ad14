import Foundation
import Runnel
import RunnelCLI
import Shop

/// `shopctl refund ORDER --reason TEXT`: the shop's own subcommand beside Runnel's.
public struct RefundCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "refund", abstract: "Refund an order in full (the refund goes through the outbox).")

    @Argument(help: "The order to refund.") var orderId: Int64
    @Option(help: "Why.") var reason = "customer request"
    @OptionGroup var home: HomeOptions

    public init() {}

    public func run() throws {
        let context = CLIContext.current
        let store = try Store.open(home.resolved)
        let refund = try store.app.write { db in
            try Shop(outbox: store.outbox).refund(orderId: orderId, reason: reason, at: Date(), in: db)
        }
        context.console.print("Refunded order \(refund.orderId): \(refund.amountCents) cents (\(refund.country)). Run `\(context.programName) relay` to publish it.")
    }
}
