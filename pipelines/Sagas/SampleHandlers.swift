import Foundation
import GRDB
import Runnel

/// The participants of the sample's sagas. Each keeps its own effects in `app.sqlite`
/// (`migrations/0006_sagas.sql`), one row per effect, in the transaction that replies.
///
/// Two deterministic refusals make the sagas compensate:
/// - the email handler bounces every address at a domain listed in `bouncing_domains`
///   (`bounce.example.net`, which the sample gives members 4, 24, 44, 64 and 84: about 5 % of
///   invitees);
/// - the entitlements handler refuses a plan that `premium_plans` marks unavailable
///   (`career-legacy`, which the sample requests for every twelfth upgrade).
public enum SampleHandlers {
    /// Every handler, for the catalog.
    public static var all: [Handler] { [invitations, notifications, email, analytics, payments, entitlements] }

    /// Tracks invitation deliveries (`invitation_deliveries`).
    public static var invitations: Handler {
        Handler("invitations", reads: SagaTopic.invitationCommands) {
            On(TrackInvitation.self) { command, context in
                try context.db.execute(sql: """
                    INSERT INTO invitation_deliveries (invitation_id, invitee_id, state, tracked_at) VALUES (?, ?, 'sending', ?)
                    ON CONFLICT (invitation_id) DO NOTHING
                    """, arguments: [command.invitationId, command.inviteeId, context.now.millisecondsSince1970])
                try context.reply(InvitationTracked(invitationId: command.invitationId))
            }
            On(MarkInvitationFailed.self) { command, context in
                try context.db.execute(sql: "UPDATE invitation_deliveries SET state = 'failed', failed_at = ? WHERE invitation_id = ? AND state <> 'failed'",
                                       arguments: [context.now.millisecondsSince1970, command.invitationId])
                try context.reply(InvitationMarkedFailed(invitationId: command.invitationId))
            }
        }
    }

    /// Sends and retracts push notifications (`push_notifications`).
    public static var notifications: Handler {
        Handler("notifications", reads: SagaTopic.notificationCommands) {
            On(SendPushNotification.self) { command, context in
                try context.db.execute(sql: """
                    INSERT INTO push_notifications (invitation_id, member_id, command_id, state, sent_at) VALUES (?, ?, ?, 'sent', ?)
                    """, arguments: [command.invitationId, command.memberId, context.commandID ?? context.position, context.now.millisecondsSince1970])
                try context.reply(NotificationSent(invitationId: command.invitationId, notificationId: context.db.lastInsertedRowID))
            }
            On(RetractNotification.self) { command, context in
                try context.db.execute(sql: "UPDATE push_notifications SET state = 'retracted', retracted_at = ? WHERE invitation_id = ? AND state = 'sent'",
                                       arguments: [context.now.millisecondsSince1970, command.invitationId])
                try context.reply(NotificationRetracted(invitationId: command.invitationId, retracted: context.db.changesCount))
            }
        }
    }

    /// Sends invitation emails (`invitation_emails`, bouncing as `bouncing_domains` says) and
    /// upgrade receipts (`receipts`).
    public static var email: Handler {
        Handler("email", reads: SagaTopic.emailCommands) {
            On(SendInvitationEmail.self) { command, context in
                let now = context.now.millisecondsSince1970
                guard let address = try address(of: command.inviteeId, context.db) else {
                    return try context.fail(EmailFailed(invitationId: command.invitationId, address: nil, reason: "member \(command.inviteeId) has no email address"))
                }
                if let bounce = try bounce(address, context.db) {
                    try context.db.execute(sql: "INSERT INTO invitation_emails (invitation_id, address, state, reason, attempted_at) VALUES (?, ?, 'bounced', ?, ?)",
                                           arguments: [command.invitationId, address, bounce, now])
                    return try context.fail(EmailFailed(invitationId: command.invitationId, address: address, reason: bounce))
                }
                try context.db.execute(sql: "INSERT INTO invitation_emails (invitation_id, address, state, attempted_at) VALUES (?, ?, 'sent', ?)",
                                       arguments: [command.invitationId, address, now])
                // The email is what delivers the invitation.
                try context.db.execute(sql: "UPDATE invitation_deliveries SET state = 'delivered', delivered_at = ? WHERE invitation_id = ? AND state = 'sending'",
                                       arguments: [now, command.invitationId])
                try context.reply(EmailSent(invitationId: command.invitationId, address: address))
            }
            On(SendReceipt.self) { command, context in
                guard let address = try address(of: command.memberId, context.db) else {
                    throw NetworkError("member \(command.memberId) has no email address for the receipt of upgrade \(command.upgradeId)")
                }
                try context.db.execute(sql: """
                    INSERT INTO receipts (upgrade_id, member_id, charge_id, cents, address, sent_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (upgrade_id) DO NOTHING
                    """, arguments: [command.upgradeId, command.memberId, command.chargeId, command.cents, address, context.now.millisecondsSince1970])
                try context.reply(ReceiptSent(upgradeId: command.upgradeId, address: address))
            }
        }
    }

    /// Records invitations for analysis (`invitation_analytics`).
    public static var analytics: Handler {
        Handler("analytics", reads: SagaTopic.analyticsCommands) {
            On(RecordInvitationAnalytics.self) { command, context in
                try context.db.execute(sql: """
                    INSERT INTO invitation_analytics (invitation_id, inviter_id, invitee_id, recorded_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (invitation_id) DO NOTHING
                    """, arguments: [command.invitationId, command.inviterId, command.inviteeId, context.now.millisecondsSince1970])
                try context.reply(AnalyticsRecorded(invitationId: command.invitationId))
            }
        }
    }

    /// The most a card is charged at once; more is declined.
    public static let cardLimitCents: Int64 = 100_000

    /// Charges and refunds cards (`payments`: a row per charge and a row per refund).
    public static var payments: Handler {
        Handler("payments", reads: SagaTopic.paymentCommands) {
            On(ChargeCard.self) { command, context in
                guard command.cents <= cardLimitCents else {
                    return try context.fail(CardDeclined(upgradeId: command.upgradeId, reason: "\(command.cents) cents is over the card's limit of \(cardLimitCents)"))
                }
                let chargeId = "ch_\(command.upgradeId)"
                try context.db.execute(sql: """
                    INSERT INTO payments (upgrade_id, member_id, kind, charge_id, cents, command_id, at) VALUES (?, ?, 'charge', ?, ?, ?, ?)
                    """, arguments: [command.upgradeId, command.memberId, chargeId, command.cents, context.commandID ?? context.position,
                                     context.now.millisecondsSince1970])
                try context.reply(CardCharged(upgradeId: command.upgradeId, chargeId: chargeId))
            }
            On(RefundCharge.self) { command, context in
                // Refund a charge once, and only one that was made.
                try context.db.execute(sql: """
                    INSERT INTO payments (upgrade_id, member_id, kind, charge_id, cents, command_id, at)
                    SELECT upgrade_id, member_id, 'refund', charge_id, cents, ?, ? FROM payments
                    WHERE charge_id = ? AND kind = 'charge'
                      AND NOT EXISTS (SELECT 1 FROM payments WHERE charge_id = ? AND kind = 'refund')
                    """, arguments: [context.commandID ?? context.position, context.now.millisecondsSince1970, command.chargeId, command.chargeId])
                try context.reply(ChargeRefunded(upgradeId: command.upgradeId, chargeId: command.chargeId))
            }
        }
    }

    /// Grants and revokes premium plans (`entitlements`), refusing plans `premium_plans` marks
    /// unavailable.
    public static var entitlements: Handler {
        Handler("entitlements", reads: SagaTopic.entitlementCommands) {
            On(GrantPremium.self) { command, context in
                let available = try Bool.fetchOne(context.db, sql: "SELECT available FROM premium_plans WHERE plan = ?", arguments: [command.plan])
                guard available == true else {
                    let reason = available == nil ? "plan \(command.plan) does not exist" : "plan \(command.plan) is retired"
                    return try context.fail(EntitlementFailed(upgradeId: command.upgradeId, reason: reason))
                }
                try context.db.execute(sql: """
                    INSERT INTO entitlements (upgrade_id, member_id, plan, granted_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (upgrade_id) DO NOTHING
                    """, arguments: [command.upgradeId, command.memberId, command.plan, context.now.millisecondsSince1970])
                try context.reply(PremiumGranted(upgradeId: command.upgradeId, memberId: command.memberId, plan: command.plan))
            }
            On(RevokePremium.self) { command, context in
                try context.db.execute(sql: "UPDATE entitlements SET revoked_at = ? WHERE upgrade_id = ? AND revoked_at IS NULL",
                                       arguments: [context.now.millisecondsSince1970, command.upgradeId])
                try context.reply(PremiumRevoked(upgradeId: command.upgradeId))
            }
        }
    }

    // MARK: - Helpers

    private static func address(of member: Int64, _ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT email FROM members WHERE member_id = ?", arguments: [member])
    }

    /// Why mail to `address` bounces, or nil when it is delivered.
    private static func bounce(_ address: String, _ db: Database) throws -> String? {
        guard let at = address.lastIndex(of: "@") else { return "\(address) is not an email address" }
        let domain = address[address.index(after: at)...].lowercased()
        return try String.fetchOne(db, sql: "SELECT reason FROM bouncing_domains WHERE domain = ?", arguments: [domain])
    }
}
