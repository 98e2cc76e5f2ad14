import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting
import Testing

/// The sample's sagas with their real handlers and business tables: one instance at a time on
/// the saga test driver, then the whole sample data set through relay, handlers and sagas.
@Suite struct SampleSagaTests {
    private let t0 = Date(millisecondsSince1970: 1_767_600_000_000)

    private func join(_ id: Int64, email: String, _ network: Network, _ db: Database) throws {
        try network.join(MemberJoined(memberId: id, name: "m\(id)", industry: "Software", headline: "h\(id)", location: "Dublin",
                                      isBot: false, joinedAt: t0), email: email, in: db)
    }

    private func count(_ sql: String, in store: Store) throws -> Int {
        try store.app.read { try Int.fetchOne($0, sql: sql) ?? 0 }
    }

    // MARK: - connection-invitation

    private func invitationDriver(inviteeEmail: String) throws -> SagaTestDriver {
        let driver = try SagaTestDriver(ConnectionInvitationSaga.saga, handlers: SampleHandlers.all, migrations: SampleCatalog.migrations)
        let network = Network(outbox: driver.store.outbox)
        try driver.store.app.write { db in
            try join(1, email: "ada@example.net", network, db)
            try join(3, email: inviteeEmail, network, db)
            try network.sendInvitation(id: 7, from: 1, to: 3, message: nil, at: driver.clock.now(), in: db)
        }
        try driver.run()
        return driver
    }

    @Test func anInvitationToABouncingAddressRetractsItsNotificationThenMarksItFailed() throws {
        let driver = try invitationDriver(inviteeEmail: "bo@bounce.example.net")
        let instance = try #require(try driver.instance("7"))
        #expect(instance.state == .compensated)
        #expect(try driver.kinds("7") == ["started", "command", "reply", "command", "reply", "command", "reply",
                                          "compensation", "compensation-reply", "compensation", "compensation-reply", "compensated"])
        // Reverse order: the notification (step 1) is retracted before the delivery (step 0) is marked failed.
        let compensations = try driver.timeline("7").filter { $0.kind == "compensation" }
        #expect(compensations.map(\.type) == ["RetractNotification", "MarkInvitationFailed"])
        #expect(compensations.map(\.step) == [1, 0])

        let store = driver.store
        #expect(try count("SELECT count(*) FROM invitation_emails WHERE invitation_id = 7 AND state = 'bounced' AND address = 'bo@bounce.example.net'", in: store) == 1)
        #expect(try count("SELECT count(*) FROM invitation_emails WHERE state = 'sent'", in: store) == 0)
        #expect(try count("SELECT count(*) FROM push_notifications WHERE invitation_id = 7 AND state = 'retracted' AND retracted_at IS NOT NULL", in: store) == 1)
        #expect(try count("SELECT count(*) FROM push_notifications", in: store) == 1)
        #expect(try count("SELECT count(*) FROM invitation_deliveries WHERE invitation_id = 7 AND state = 'failed' AND failed_at IS NOT NULL", in: store) == 1)
        #expect(try count("SELECT count(*) FROM invitation_analytics", in: store) == 0)
    }

    @Test func anInvitationToADeliverableAddressCompletesEveryStep() throws {
        let driver = try invitationDriver(inviteeEmail: "bo@example.net")
        #expect(try driver.instance("7")?.state == .completed)
        #expect(try driver.kinds("7") == ["started", "command", "reply", "command", "reply", "command", "reply", "command", "reply", "completed"])
        let store = driver.store
        #expect(try count("SELECT count(*) FROM invitation_deliveries WHERE invitation_id = 7 AND state = 'delivered'", in: store) == 1)
        #expect(try count("SELECT count(*) FROM push_notifications WHERE invitation_id = 7 AND state = 'sent' AND member_id = 3", in: store) == 1)
        #expect(try count("SELECT count(*) FROM invitation_emails WHERE invitation_id = 7 AND state = 'sent' AND address = 'bo@example.net'", in: store) == 1)
        #expect(try count("SELECT count(*) FROM invitation_analytics WHERE invitation_id = 7 AND inviter_id = 1 AND invitee_id = 3", in: store) == 1)
    }

    // MARK: - premium-upgrade

    private func upgradeDriver(plan: String) throws -> SagaTestDriver {
        let driver = try SagaTestDriver(PremiumUpgradeSaga.saga, handlers: SampleHandlers.all, migrations: SampleCatalog.migrations)
        let network = Network(outbox: driver.store.outbox)
        try driver.store.app.write { db in
            try join(5, email: "cy@example.net", network, db)
            try network.requestPremiumUpgrade(id: 11, memberId: 5, plan: plan, at: driver.clock.now(), in: db)
        }
        try driver.run()
        return driver
    }

    @Test func anUpgradeToARetiredPlanIsChargedOnceAndRefundedOnce() throws {
        let driver = try upgradeDriver(plan: "career-legacy")
        let instance = try #require(try driver.instance("11"))
        #expect(instance.state == .compensated)
        #expect(instance.data.contains("\"chargeId\":\"ch_11\""))
        #expect(try driver.kinds("11") == ["started", "command", "reply", "command", "reply", "compensation", "compensation-reply", "compensated"])
        let refund = try #require(try driver.commands(type: "RefundCharge").first?.decode(as: RefundCharge.self))
        #expect(refund.chargeId == "ch_11" && refund.cents == 1999)

        let store = driver.store
        #expect(try count("SELECT count(*) FROM payments WHERE upgrade_id = 11 AND kind = 'charge' AND charge_id = 'ch_11' AND cents = 1999", in: store) == 1)
        #expect(try count("SELECT count(*) FROM payments WHERE upgrade_id = 11 AND kind = 'refund' AND charge_id = 'ch_11' AND cents = 1999", in: store) == 1)
        #expect(try count("SELECT count(*) FROM payments", in: store) == 2)
        #expect(try count("SELECT count(*) FROM entitlements", in: store) == 0)
        #expect(try count("SELECT count(*) FROM receipts", in: store) == 0)
    }

    @Test func anUpgradeToAnAvailablePlanChargesGrantsAndSendsOneReceipt() throws {
        let driver = try upgradeDriver(plan: "premium-monthly")
        #expect(try driver.instance("11")?.state == .completed)
        #expect(try driver.kinds("11") == ["started", "command", "reply", "command", "reply", "command", "reply", "completed"])
        let store = driver.store
        #expect(try count("SELECT count(*) FROM premium_upgrades WHERE upgrade_id = 11 AND cents = 2999", in: store) == 1)
        #expect(try count("SELECT count(*) FROM payments WHERE kind = 'charge' AND charge_id = 'ch_11' AND cents = 2999", in: store) == 1)
        #expect(try count("SELECT count(*) FROM payments WHERE kind = 'refund'", in: store) == 0)
        #expect(try count("SELECT count(*) FROM entitlements WHERE upgrade_id = 11 AND member_id = 5 AND plan = 'premium-monthly' AND revoked_at IS NULL", in: store) == 1)
        #expect(try count("SELECT count(*) FROM receipts WHERE upgrade_id = 11 AND charge_id = 'ch_11' AND address = 'cy@example.net'", in: store) == 1)
    }

    @Test func anUnknownPlanIsRefusedWithTheListOfPlans() throws {
        let temporary = try TemporaryHome(label: "saga-plan")
        let store = try temporary.openStore(migrations: SampleCatalog.migrations)
        let network = Network(outbox: store.outbox)
        try store.app.write { db in try join(5, email: "cy@example.net", network, db) }
        #expect(throws: NetworkError.self) {
            _ = try store.app.write { db in try network.requestPremiumUpgrade(id: 1, memberId: 5, plan: "gold", at: t0, in: db) }
        }
    }

    // MARK: - The whole sample

    @Test func theCatalogWithItsSagasAndHandlersIsValid() throws {
        try SampleCatalog.catalog.validate()
        #expect(SampleCatalog.catalog.sagas.map(\.name) == ["connection-invitation", "premium-upgrade"])
    }

    @Test func theWholeSampleEndsEverySagaAndCountsEachEffectOnce() throws {
        let temporary = try TemporaryHome(label: "sample-sagas")
        let store = try temporary.openStoreWithSampleData(SampleCatalog.catalog)
        let log = try Log.open(temporary.home.logURL)
        defer { try? log.close() }
        let drain = try SagaDrain(relay: OutboxRelay(store: store, log: log), handlers: SampleHandlers.all, sagas: SampleCatalog.sagas)
        let done = try drain.run(maximumRounds: 100)
        #expect(done.rounds > 2)

        let invitations = try store.app.read { try SagaRecords.counts(of: ConnectionInvitationSaga.name, in: $0) }
        let invited = try count("SELECT count(*) FROM connection_invitations", in: store)
        let (completed, compensated) = (invitations[.completed, default: 0], invitations[.compensated, default: 0])
        #expect(invited > 50)
        #expect(completed + compensated == invited, "every invitation's saga ends completed or compensated: \(invitations)")
        let share = Double(compensated) / Double(invited)
        #expect(share > 0.02 && share < 0.10, "about 5 % of invitations bounce: \(compensated) of \(invited)")
        #expect(try count("SELECT count(*) FROM push_notifications", in: store) == invited)
        #expect(try count("SELECT count(*) FROM push_notifications WHERE state = 'retracted'", in: store) == compensated)
        #expect(try count("SELECT count(*) FROM invitation_deliveries WHERE state = 'delivered'", in: store) == completed)
        #expect(try count("SELECT count(*) FROM invitation_deliveries WHERE state = 'failed'", in: store) == compensated)
        #expect(try count("SELECT count(*) FROM invitation_emails WHERE state = 'sent'", in: store) == completed)
        #expect(try count("SELECT count(*) FROM invitation_emails WHERE state = 'bounced' AND address LIKE '%@bounce.example.net'", in: store) == compensated)
        #expect(try count("SELECT count(*) FROM invitation_emails", in: store) == invited)
        #expect(try count("SELECT count(*) FROM invitation_analytics", in: store) == completed)

        let upgrades = try store.app.read { try SagaRecords.counts(of: PremiumUpgradeSaga.name, in: $0) }
        let requested = try count("SELECT count(*) FROM premium_upgrades", in: store)
        let retired = try count("SELECT count(*) FROM premium_upgrades JOIN premium_plans USING (plan) WHERE available = 0", in: store)
        let (granted, refunded) = (upgrades[.completed, default: 0], upgrades[.compensated, default: 0])
        #expect(requested > 10)
        #expect(granted + refunded == requested, "every upgrade's saga ends completed or compensated: \(upgrades)")
        #expect(refunded == retired && retired > 0, "upgrades to the retired plan, and only those, are refunded")
        #expect(try count("SELECT count(*) FROM payments WHERE kind = 'charge'", in: store) == requested)
        #expect(try count("SELECT count(DISTINCT charge_id) FROM payments WHERE kind = 'charge'", in: store) == requested)
        #expect(try count("SELECT count(*) FROM payments WHERE kind = 'refund'", in: store) == refunded)
        #expect(try count("SELECT count(*) FROM entitlements WHERE revoked_at IS NULL", in: store) == granted)
        #expect(try count("SELECT count(*) FROM entitlements", in: store) == granted)
        #expect(try count("SELECT count(*) FROM receipts", in: store) == granted)

        // Nothing was dead-lettered, and a second pass finds nothing to do.
        #expect(try count("SELECT count(*) FROM runnel_consumer_dead_letters", in: store) == 0)
        let again = try drain.run()
        #expect(again.rounds == 1 && again.relayed == 0 && again.handled.records == 0 && again.coordinated.isEmpty)
    }
}
