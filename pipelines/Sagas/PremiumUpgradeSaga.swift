import Foundation
import Runnel

/// `premium-upgrade`: takes a member's money and gives them the plan, or gives the money back.
/// Started by each `PremiumUpgradeRequested` on `upgrades` (one instance per upgrade id), three
/// steps:
///
/// 1. "charge" — the payments handler charges the card and answers with a charge id, kept in
///    the state for the refund; undone by refunding that charge.
/// 2. "entitle" — the entitlements handler grants the plan; it refuses a retired plan
///    (`premium_plans.available = 0`), and then the charge is refunded.
/// 3. "receipt" — the email handler sends the receipt.
public enum PremiumUpgradeSaga {
    /// The saga's name.
    public static let name = "premium-upgrade"

    /// What an instance knows: the request, and the charge once made.
    public struct State: Codable, Sendable, Hashable {
        public var upgradeId: Int64
        public var memberId: Int64
        public var plan: String
        public var cents: Int64
        /// Set by `CardCharged`; what `RefundCharge` and the receipt name.
        public var chargeId: String?
    }

    /// The saga, for the catalog.
    public static var saga: Saga {
        Saga(name, startedBy: SagaTopic.upgrades, on: PremiumUpgradeRequested.self, id: { "\($0.upgradeId)" },
             state: { State(upgradeId: $0.upgradeId, memberId: $0.memberId, plan: $0.plan, cents: $0.cents) }) {
            SagaStep<State>("charge", to: SagaTopic.paymentCommands) { ChargeCard(upgradeId: $0.upgradeId, memberId: $0.memberId, cents: $0.cents) }
                .completed(by: CardCharged.self) { state, charged in state.chargeId = charged.chargeId }
                .failed(by: CardDeclined.self)
                .compensate(to: SagaTopic.paymentCommands) { state in
                    RefundCharge(upgradeId: state.upgradeId, memberId: state.memberId, chargeId: try chargeID(of: state), cents: state.cents)
                }
                .compensated(by: ChargeRefunded.self)
            SagaStep<State>("entitle", to: SagaTopic.entitlementCommands) { GrantPremium(upgradeId: $0.upgradeId, memberId: $0.memberId, plan: $0.plan) }
                .completed(by: PremiumGranted.self)
                .failed(by: EntitlementFailed.self)
                .compensate(to: SagaTopic.entitlementCommands) { RevokePremium(upgradeId: $0.upgradeId, memberId: $0.memberId) }
                .compensated(by: PremiumRevoked.self)
            SagaStep<State>("receipt", to: SagaTopic.emailCommands) { state in
                SendReceipt(upgradeId: state.upgradeId, memberId: state.memberId, chargeId: try chargeID(of: state), cents: state.cents)
            }
                .completed(by: ReceiptSent.self)
        }
    }

    /// The charge a later command names: there is one once "charge" completed.
    private static func chargeID(of state: State) throws -> String {
        guard let chargeId = state.chargeId else {
            throw NetworkError("premium upgrade \(state.upgradeId) has no charge id in its saga state, though its charge step completed; "
                               + "the CardCharged reply must carry one")
        }
        return chargeId
    }
}
