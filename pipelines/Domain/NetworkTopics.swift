/// The topics the sample network's business operations announce events on.
/// Each event type and its payload fields are listed in `docs/events.md`.
public enum NetworkTopic {
    /// Members joining and editing their profiles; key: member id.
    public static let memberProfile = "member-profile"
    /// Invitations and the connections they make; key: invitation id.
    public static let connections = "connections"
    /// Page views, clicks, posts and reactions; key: member id.
    public static let memberActivity = "member-activity"
    /// Who viewed whose profile; key: the viewed member's id.
    public static let profileViews = "profile-views"
    /// Service ownership; key: service.
    public static let serviceOwners = "service-owners"
    /// Exceptions thrown by services; key: service.
    public static let serviceExceptions = "service-exceptions"
    /// Host measurements; key: host.
    public static let hostMetrics = "host-metrics"

    /// Every topic, in the order `docs/events.md` lists them.
    public static let all = [memberProfile, connections, memberActivity, profileViews, serviceOwners, serviceExceptions, hostMetrics]
}
