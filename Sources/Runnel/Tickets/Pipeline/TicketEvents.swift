import Foundation

/// One exception as the tickets pipeline reads it: what a service threw, where, when, in which
/// version, and who looks after the service. An application maps its own exception events to
/// these (``ExceptionTickets``).
public struct ExceptionOccurrence: Sendable, Hashable {
    /// The service that threw it; tickets are per service.
    public var service: String
    /// The host it ran on.
    public var host: String
    /// The log level (`warning`, `error`, `fatal`, or the application's own words).
    public var level: String
    /// The exception's type as thrown, e.g. `java.util.concurrent.TimeoutException`.
    public var exceptionType: String
    public var message: String
    public var stackTrace: String
    public var occurredAt: Date
    /// The service's version that threw it (`2.4.1`); nil when the event does not say. A ticket
    /// resolved in a version is reopened only by exceptions from that version on.
    public var version: String?
    /// Who is told about the service's new and regressed tickets (e-mail addresses, team names).
    public var owners: [String]

    public init(service: String, host: String, level: String, exceptionType: String, message: String, stackTrace: String,
                occurredAt: Date, version: String?, owners: [String]) {
        self.service = service
        self.host = host
        self.level = level
        self.exceptionType = exceptionType
        self.message = message
        self.stackTrace = stackTrace
        self.occurredAt = occurredAt
        self.version = version
        self.owners = owners
    }
}

/// `TicketResolved`: someone marked a ticket fixed, optionally in a version of its service.
///
/// Written through the app outbox to the exceptions topic, keyed by the service, so it sits in
/// the same partition as the service's exceptions and the tickets pipeline applies it in log
/// order; a rebuild replays it with them. ``ExceptionTickets/resolve(_:inVersion:note:by:at:store:)``
/// writes one.
public struct TicketResolved: Codable, Sendable, Hashable {
    public var ticketId: String
    public var service: String
    /// Exceptions from versions before this one do not reopen the ticket; nil: any exception does.
    public var inVersion: String?
    public var note: String?
    /// Who resolved it (a user name, as given).
    public var resolvedBy: String?
    public var resolvedAt: Date

    public init(ticketId: String, service: String, inVersion: String?, note: String?, resolvedBy: String?, resolvedAt: Date) {
        self.ticketId = ticketId
        self.service = service
        self.inVersion = inVersion
        self.note = note
        self.resolvedBy = resolvedBy
        self.resolvedAt = resolvedAt
    }
}

/// `TicketOpened` and `TicketReopened`, on the tickets topic: a ticket the owners must hear
/// about. Each one becomes one notification per owner.
public struct TicketChange: Codable, Sendable, Hashable {
    /// Why owners are told.
    public enum Reason: String, Codable, Sendable, Hashable {
        /// The fingerprint was never seen in the service before (`TicketOpened`).
        case new
        /// The ticket was open, but its fingerprint had not been seen in the baseline window
        /// (7 days by default): new again for the service (`TicketReopened`).
        case returned
        /// The ticket was resolved and its fingerprint was seen again, from the version it was
        /// resolved in or later (`TicketReopened`).
        case regressed
    }

    public var ticketId: String
    public var service: String
    /// The fingerprint's id (32 hex digits).
    public var fingerprint: String
    public var exceptionType: String
    /// The message's template, the ticket's title.
    public var title: String
    public var reason: Reason
    /// 1 for the ticket's opening, then 2, 3, … for each reopening: with the ticket id, what a
    /// notification's idempotency key is made of, so a replay announces the same numbers.
    public var opening: Int
    /// The exception that opened it: its time, level, host, version and message.
    public var at: Date
    public var level: String
    public var host: String
    public var version: String?
    public var message: String
    /// When the ticket was first seen.
    public var firstSeen: Date
    /// For a regression, when and in which version the ticket had been resolved.
    public var resolvedAt: Date?
    public var resolvedInVersion: String?
    /// Who is told, one notification each.
    public var owners: [String]

    /// The `type` header of a change: `TicketOpened` for the first opening, else `TicketReopened`.
    public var eventType: String { opening == 1 ? "TicketOpened" : "TicketReopened" }
}

/// `TicketCountsUpdated`, on the tickets topic: a ticket's exceptions in an hour, announced when
/// the hour closes (its end plus the lateness passed on every partition), and again with the
/// corrected count if a late exception changes a closed hour.
public struct TicketCountsUpdated: Codable, Sendable, Hashable {
    public var ticketId: String
    public var service: String
    /// The start of the hour (UTC).
    public var hour: Date
    /// The ticket's exceptions in that hour.
    public var count: Int64
    /// The ticket's exceptions from its first through the end of that hour.
    public var total: Int64
}
