/// The topics of the sample's sagas: the upgrade requests that start one, and the command topics
/// its participants (``SampleHandlers``) read. Replies go to each saga's own
/// `<saga>-replies` topic. `docs/events.md` lists every command and reply.
public enum SagaTopic {
    /// Premium upgrade requests (`PremiumUpgradeRequested`); key: upgrade id.
    public static let upgrades = "upgrades"
    /// Commands to the invitations handler; key: saga instance id.
    public static let invitationCommands = "invitation-commands"
    /// Commands to the notifications handler.
    public static let notificationCommands = "notification-commands"
    /// Commands to the email handler: invitation emails and receipts.
    public static let emailCommands = "email-commands"
    /// Commands to the analytics handler.
    public static let analyticsCommands = "analytics-commands"
    /// Commands to the payments handler.
    public static let paymentCommands = "payment-commands"
    /// Commands to the entitlements handler.
    public static let entitlementCommands = "entitlement-commands"
}
