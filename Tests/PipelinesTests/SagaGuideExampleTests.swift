import Foundation
import Pipelines
import Runnel
import RunnelTesting
import Testing

/// The example of docs/sagas.md's "Testing a saga", as written there: if it stops holding, the
/// guide is wrong.
@Suite struct SagaGuideExampleTests {
    @Test func anEntitlementThatNeverAnswersIsRetriedThenTheChargeIsRefunded() throws {
        let driver = try SagaTestDriver(PremiumUpgradeSaga.saga, migrations: SampleCatalog.migrations)
        try driver.start(PremiumUpgradeRequested(upgradeId: 7, memberId: 42, plan: "premium-monthly", cents: 2999,
                                                 requestedAt: driver.clock.now()), key: "7")
        try driver.run()
        let charge = try #require(try driver.commands(type: "ChargeCard").first)
        try driver.reply(to: charge, with: CardCharged(upgradeId: 7, chargeId: "ch_7"))
        try driver.run()
        for _ in 1...5 { try driver.advance(by: .seconds(31)) }   // the entitlement never answers: 3 attempts, then the refund
        #expect(try driver.instance("7")?.state == .compensating)
        #expect(try driver.commands(type: "RefundCharge").count == 1)
        #expect(try driver.commands(type: "GrantPremium").map(\.attempt) == [1, 2, 3])
    }
}
