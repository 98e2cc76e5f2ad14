import Foundation

// The payloads of the sample network's events. Field names are the JSON keys; times encode as
// milliseconds since 1970. `docs/events.md` is the reference; keep the two in step.

/// `member-profile` · `MemberJoined`: a member signed up.
public struct MemberJoined: Codable, Sendable, Hashable {
    public var memberId: Int64
    public var name: String
    public var industry: String
    public var headline: String
    public var location: String
    public var isBot: Bool
    public var joinedAt: Date
}

/// `member-profile` · `HeadlineUpdated`: a member changed their headline.
public struct HeadlineUpdated: Codable, Sendable, Hashable {
    public var memberId: Int64
    public var headline: String
    public var previousHeadline: String
    public var updatedAt: Date
}

/// `connections` · `InvitationSent`.
public struct InvitationSent: Codable, Sendable, Hashable {
    public var invitationId: Int64
    public var inviterId: Int64
    public var inviteeId: Int64
    public var message: String?
    public var sentAt: Date
}

/// `connections` · `InvitationAccepted` and `InvitationDeclined`.
public struct InvitationAnswered: Codable, Sendable, Hashable {
    public var invitationId: Int64
    public var inviterId: Int64
    public var inviteeId: Int64
    public var answeredAt: Date
}

/// `connections` · `ConnectionMade`: two members are now connected (`memberA < memberB`).
public struct ConnectionMade: Codable, Sendable, Hashable {
    public var memberA: Int64
    public var memberB: Int64
    public var invitationId: Int64
    public var connectedAt: Date
}

/// `member-activity` · `ActivityRecorded`: a page view, click, post or reaction.
public struct ActivityRecorded: Codable, Sendable, Hashable {
    public var activityId: Int64
    public var memberId: Int64
    public var kind: String
    public var page: String
    public var dwellMs: Int64
    public var userAgent: String
    public var isBot: Bool
    public var occurredAt: Date
}

/// `profile-views` · `ProfileViewed`.
public struct ProfileViewed: Codable, Sendable, Hashable {
    public var viewId: Int64
    public var viewerId: Int64
    public var viewedId: Int64
    public var occurredAt: Date
}

/// `service-owners` · `ServiceOwnerAssigned`.
public struct ServiceOwnerAssigned: Codable, Sendable, Hashable {
    public var service: String
    public var team: String
    public var ownerEmail: String
    public var assignedAt: Date
}

/// `service-exceptions` · `ExceptionLogged`.
public struct ExceptionLogged: Codable, Sendable, Hashable {
    public var exceptionId: Int64
    public var service: String
    public var host: String
    public var level: String
    public var exceptionType: String
    public var message: String
    public var stackTrace: String
    public var occurredAt: Date
}

/// `host-metrics` · `HostMetricRecorded`.
public struct HostMetricRecorded: Codable, Sendable, Hashable {
    public var host: String
    public var metric: String
    public var value: Double
    public var recordedAt: Date
}
