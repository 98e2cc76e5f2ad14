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

    public init(memberId: Int64, name: String, industry: String, headline: String, location: String, isBot: Bool, joinedAt: Date) {
        self.memberId = memberId
        self.name = name
        self.industry = industry
        self.headline = headline
        self.location = location
        self.isBot = isBot
        self.joinedAt = joinedAt
    }
}

/// `member-profile` · `HeadlineUpdated`: a member changed their headline.
public struct HeadlineUpdated: Codable, Sendable, Hashable {
    public var memberId: Int64
    public var headline: String
    public var previousHeadline: String
    public var updatedAt: Date

    public init(memberId: Int64, headline: String, previousHeadline: String, updatedAt: Date) {
        self.memberId = memberId
        self.headline = headline
        self.previousHeadline = previousHeadline
        self.updatedAt = updatedAt
    }
}

/// `connections` · `InvitationSent`.
public struct InvitationSent: Codable, Sendable, Hashable {
    public var invitationId: Int64
    public var inviterId: Int64
    public var inviteeId: Int64
    public var message: String?
    public var sentAt: Date

    public init(invitationId: Int64, inviterId: Int64, inviteeId: Int64, message: String?, sentAt: Date) {
        self.invitationId = invitationId
        self.inviterId = inviterId
        self.inviteeId = inviteeId
        self.message = message
        self.sentAt = sentAt
    }
}

/// `connections` · `InvitationAccepted` and `InvitationDeclined`.
public struct InvitationAnswered: Codable, Sendable, Hashable {
    public var invitationId: Int64
    public var inviterId: Int64
    public var inviteeId: Int64
    public var answeredAt: Date

    public init(invitationId: Int64, inviterId: Int64, inviteeId: Int64, answeredAt: Date) {
        self.invitationId = invitationId
        self.inviterId = inviterId
        self.inviteeId = inviteeId
        self.answeredAt = answeredAt
    }
}

/// `connections` · `ConnectionMade`: two members are now connected (`memberA < memberB`).
public struct ConnectionMade: Codable, Sendable, Hashable {
    public var memberA: Int64
    public var memberB: Int64
    public var invitationId: Int64
    public var connectedAt: Date

    public init(memberA: Int64, memberB: Int64, invitationId: Int64, connectedAt: Date) {
        self.memberA = memberA
        self.memberB = memberB
        self.invitationId = invitationId
        self.connectedAt = connectedAt
    }
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

    public init(activityId: Int64, memberId: Int64, kind: String, page: String, dwellMs: Int64, userAgent: String, isBot: Bool, occurredAt: Date) {
        self.activityId = activityId
        self.memberId = memberId
        self.kind = kind
        self.page = page
        self.dwellMs = dwellMs
        self.userAgent = userAgent
        self.isBot = isBot
        self.occurredAt = occurredAt
    }
}

/// `profile-views` · `ProfileViewed`.
public struct ProfileViewed: Codable, Sendable, Hashable {
    public var viewId: Int64
    public var viewerId: Int64
    public var viewedId: Int64
    public var occurredAt: Date

    public init(viewId: Int64, viewerId: Int64, viewedId: Int64, occurredAt: Date) {
        self.viewId = viewId
        self.viewerId = viewerId
        self.viewedId = viewedId
        self.occurredAt = occurredAt
    }
}

/// `service-owners` · `ServiceOwnerAssigned`.
public struct ServiceOwnerAssigned: Codable, Sendable, Hashable {
    public var service: String
    public var team: String
    public var ownerEmail: String
    public var assignedAt: Date

    public init(service: String, team: String, ownerEmail: String, assignedAt: Date) {
        self.service = service
        self.team = team
        self.ownerEmail = ownerEmail
        self.assignedAt = assignedAt
    }
}

/// `service-exceptions` · `ExceptionLogged`.
///
/// Schema version 2 added `serviceVersion`; version 1 payloads, which do not have it, decode
/// with `serviceVersion` nil.
public struct ExceptionLogged: Codable, Sendable, Hashable {
    /// The schema version ``Network/logException(_:in:)`` writes.
    public static let schemaVersion = 2

    public var exceptionId: Int64
    public var service: String
    public var host: String
    public var level: String
    public var exceptionType: String
    public var message: String
    public var stackTrace: String
    public var occurredAt: Date
    /// The version of the service that threw (`3.2.1`); nil in version 1 events. A ticket
    /// resolved in a version reopens only for exceptions from that version on.
    public var serviceVersion: String?

    public init(exceptionId: Int64, service: String, host: String, level: String, exceptionType: String, message: String, stackTrace: String,
                occurredAt: Date, serviceVersion: String? = nil) {
        self.exceptionId = exceptionId
        self.service = service
        self.host = host
        self.level = level
        self.exceptionType = exceptionType
        self.message = message
        self.stackTrace = stackTrace
        self.occurredAt = occurredAt
        self.serviceVersion = serviceVersion
    }
}

/// `host-metrics` · `HostMetricRecorded`.
public struct HostMetricRecorded: Codable, Sendable, Hashable {
    public var host: String
    public var metric: String
    public var value: Double
    public var recordedAt: Date

    public init(host: String, metric: String, value: Double, recordedAt: Date) {
        self.host = host
        self.metric = metric
        self.value = value
        self.recordedAt = recordedAt
    }
}
