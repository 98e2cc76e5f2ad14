import Foundation

// The payloads of the sample's sagas: the upgrade request that starts one, and each step's
// command, replies and compensation. Field names are the JSON keys; times encode as
// milliseconds since 1970. `docs/events.md` is the reference; keep the two in step.

/// `upgrades` · `PremiumUpgradeRequested`: a member asked for a premium plan
/// (`Network.requestPremiumUpgrade`); it starts a `premium-upgrade` saga.
public struct PremiumUpgradeRequested: Codable, Sendable, Hashable {
    public var upgradeId: Int64
    public var memberId: Int64
    public var plan: String
    /// The plan's price when requested.
    public var cents: Int64
    public var requestedAt: Date

    public init(upgradeId: Int64, memberId: Int64, plan: String, cents: Int64, requestedAt: Date) {
        self.upgradeId = upgradeId
        self.memberId = memberId
        self.plan = plan
        self.cents = cents
        self.requestedAt = requestedAt
    }
}

// MARK: - connection-invitation

/// Asks the invitations handler to track an invitation's delivery.
public struct TrackInvitation: Codable, Sendable, Hashable {
    public var invitationId: Int64
    public var inviteeId: Int64

    public init(invitationId: Int64, inviteeId: Int64) {
        self.invitationId = invitationId
        self.inviteeId = inviteeId
    }
}

/// The invitation is tracked (`invitation_deliveries`, state `sending`).
public struct InvitationTracked: Codable, Sendable, Hashable {
    public var invitationId: Int64

    public init(invitationId: Int64) {
        self.invitationId = invitationId
    }
}

/// Compensation of "track": the invitation could not be delivered.
public struct MarkInvitationFailed: Codable, Sendable, Hashable {
    public var invitationId: Int64

    public init(invitationId: Int64) {
        self.invitationId = invitationId
    }
}

/// The invitation's delivery is marked `failed`.
public struct InvitationMarkedFailed: Codable, Sendable, Hashable {
    public var invitationId: Int64

    public init(invitationId: Int64) {
        self.invitationId = invitationId
    }
}

/// Asks the notifications handler to tell the invitee.
public struct SendPushNotification: Codable, Sendable, Hashable {
    public var invitationId: Int64
    public var memberId: Int64
    public var inviterId: Int64

    public init(invitationId: Int64, memberId: Int64, inviterId: Int64) {
        self.invitationId = invitationId
        self.memberId = memberId
        self.inviterId = inviterId
    }
}

/// A push notification went out.
public struct NotificationSent: Codable, Sendable, Hashable {
    public var invitationId: Int64
    public var notificationId: Int64

    public init(invitationId: Int64, notificationId: Int64) {
        self.invitationId = invitationId
        self.notificationId = notificationId
    }
}

/// Compensation of "notify": withdraw the invitation's notification.
public struct RetractNotification: Codable, Sendable, Hashable {
    public var invitationId: Int64

    public init(invitationId: Int64) {
        self.invitationId = invitationId
    }
}

/// The notification is withdrawn.
public struct NotificationRetracted: Codable, Sendable, Hashable {
    public var invitationId: Int64
    /// How many notifications were retracted (0 when there was none left to retract).
    public var retracted: Int

    public init(invitationId: Int64, retracted: Int) {
        self.invitationId = invitationId
        self.retracted = retracted
    }
}

/// Asks the email handler to email the invitee.
public struct SendInvitationEmail: Codable, Sendable, Hashable {
    public var invitationId: Int64
    public var inviteeId: Int64
    public var inviterId: Int64

    public init(invitationId: Int64, inviteeId: Int64, inviterId: Int64) {
        self.invitationId = invitationId
        self.inviteeId = inviteeId
        self.inviterId = inviterId
    }
}

/// The invitation email went out.
public struct EmailSent: Codable, Sendable, Hashable {
    public var invitationId: Int64
    public var address: String

    public init(invitationId: Int64, address: String) {
        self.invitationId = invitationId
        self.address = address
    }
}

/// The invitation email bounced (or the invitee has no address): the step fails.
public struct EmailFailed: Codable, Sendable, Hashable {
    public var invitationId: Int64
    public var address: String?
    public var reason: String

    public init(invitationId: Int64, address: String?, reason: String) {
        self.invitationId = invitationId
        self.address = address
        self.reason = reason
    }
}

/// Asks the analytics handler to record the invitation.
public struct RecordInvitationAnalytics: Codable, Sendable, Hashable {
    public var invitationId: Int64
    public var inviterId: Int64
    public var inviteeId: Int64

    public init(invitationId: Int64, inviterId: Int64, inviteeId: Int64) {
        self.invitationId = invitationId
        self.inviterId = inviterId
        self.inviteeId = inviteeId
    }
}

/// The invitation is recorded.
public struct AnalyticsRecorded: Codable, Sendable, Hashable {
    public var invitationId: Int64

    public init(invitationId: Int64) {
        self.invitationId = invitationId
    }
}

// MARK: - premium-upgrade

/// Asks the payments handler to charge the member.
public struct ChargeCard: Codable, Sendable, Hashable {
    public var upgradeId: Int64
    public var memberId: Int64
    public var cents: Int64

    public init(upgradeId: Int64, memberId: Int64, cents: Int64) {
        self.upgradeId = upgradeId
        self.memberId = memberId
        self.cents = cents
    }
}

/// The card is charged; `chargeId` is what a refund names.
public struct CardCharged: Codable, Sendable, Hashable {
    public var upgradeId: Int64
    public var chargeId: String

    public init(upgradeId: Int64, chargeId: String) {
        self.upgradeId = upgradeId
        self.chargeId = chargeId
    }
}

/// The card is declined: the step fails, nothing to undo.
public struct CardDeclined: Codable, Sendable, Hashable {
    public var upgradeId: Int64
    public var reason: String

    public init(upgradeId: Int64, reason: String) {
        self.upgradeId = upgradeId
        self.reason = reason
    }
}

/// Compensation of "charge": pay the charge back.
public struct RefundCharge: Codable, Sendable, Hashable {
    public var upgradeId: Int64
    public var memberId: Int64
    public var chargeId: String
    public var cents: Int64

    public init(upgradeId: Int64, memberId: Int64, chargeId: String, cents: Int64) {
        self.upgradeId = upgradeId
        self.memberId = memberId
        self.chargeId = chargeId
        self.cents = cents
    }
}

/// The charge is paid back.
public struct ChargeRefunded: Codable, Sendable, Hashable {
    public var upgradeId: Int64
    public var chargeId: String

    public init(upgradeId: Int64, chargeId: String) {
        self.upgradeId = upgradeId
        self.chargeId = chargeId
    }
}

/// Asks the entitlements handler to give the member the plan.
public struct GrantPremium: Codable, Sendable, Hashable {
    public var upgradeId: Int64
    public var memberId: Int64
    public var plan: String

    public init(upgradeId: Int64, memberId: Int64, plan: String) {
        self.upgradeId = upgradeId
        self.memberId = memberId
        self.plan = plan
    }
}

/// The member has the plan.
public struct PremiumGranted: Codable, Sendable, Hashable {
    public var upgradeId: Int64
    public var memberId: Int64
    public var plan: String

    public init(upgradeId: Int64, memberId: Int64, plan: String) {
        self.upgradeId = upgradeId
        self.memberId = memberId
        self.plan = plan
    }
}

/// The plan cannot be granted (it is retired, or unknown): the step fails.
public struct EntitlementFailed: Codable, Sendable, Hashable {
    public var upgradeId: Int64
    public var reason: String

    public init(upgradeId: Int64, reason: String) {
        self.upgradeId = upgradeId
        self.reason = reason
    }
}

/// Compensation of "entitle": take the plan away again.
public struct RevokePremium: Codable, Sendable, Hashable {
    public var upgradeId: Int64
    public var memberId: Int64

    public init(upgradeId: Int64, memberId: Int64) {
        self.upgradeId = upgradeId
        self.memberId = memberId
    }
}

/// The plan is taken away.
public struct PremiumRevoked: Codable, Sendable, Hashable {
    public var upgradeId: Int64

    public init(upgradeId: Int64) {
        self.upgradeId = upgradeId
    }
}

/// Asks the email handler to send the member a receipt.
public struct SendReceipt: Codable, Sendable, Hashable {
    public var upgradeId: Int64
    public var memberId: Int64
    public var chargeId: String
    public var cents: Int64

    public init(upgradeId: Int64, memberId: Int64, chargeId: String, cents: Int64) {
        self.upgradeId = upgradeId
        self.memberId = memberId
        self.chargeId = chargeId
        self.cents = cents
    }
}

/// The receipt went out.
public struct ReceiptSent: Codable, Sendable, Hashable {
    public var upgradeId: Int64
    public var address: String

    public init(upgradeId: Int64, address: String) {
        self.upgradeId = upgradeId
        self.address = address
    }
}
