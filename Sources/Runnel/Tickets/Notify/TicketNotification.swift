import Foundation

/// What an owner is told about a ticket that opened or reopened: one line of
/// `reports/notifications.jsonl`, and the body of the webhook's POST.
///
/// Made once, when the change is collected, and stored as JSON text beside its delivery state,
/// so every delivery of a notification (a retry, a resend after a crash) carries the same bytes.
/// The format is described in the Notifications section of `docs/tickets.md`.
public struct TicketNotification: Codable, Sendable, Hashable {
    /// `<ticketId>-<opening>-<owner>`: the same for the same change however often it is
    /// announced, and the webhook's `Idempotency-Key`.
    public var key: String
    /// The ticket (12 hex digits, see ``ExceptionTickets/ticketID(service:fingerprint:)``).
    public var ticketId: String
    /// The service the ticket belongs to.
    public var service: String
    /// Who is told.
    public var owner: String
    /// `opened` or `reopened`.
    public var change: String
    /// `new`, `returned` or `regressed` (``TicketChange/Reason``).
    public var reason: String
    /// 1 for the ticket's opening, 2, 3, … for its reopenings.
    public var opening: Int
    /// The fingerprint's id (32 hex digits).
    public var fingerprint: String
    /// The exception's type as thrown.
    public var exceptionType: String
    /// The message's template, the ticket's title.
    public var title: String
    /// When the exception that opened the ticket happened, ISO 8601 in UTC.
    public var at: String
    /// When the ticket was first seen, ISO 8601 in UTC.
    public var firstSeen: String
    /// The level, host, service version and message of the exception that opened the ticket.
    public var level: String
    /// See ``level``.
    public var host: String
    /// See ``level``; nil when the exception did not say.
    public var version: String?
    /// See ``level``.
    public var message: String
    /// For a regression: when, and in which version, the ticket had been resolved.
    public var resolvedAt: String?
    /// See ``resolvedAt``.
    public var resolvedInVersion: String?

    enum CodingKeys: String, CodingKey {
        case key, service, owner, change, reason, opening, fingerprint, title, at, level, host, version, message
        case ticketId = "ticket_id"
        case exceptionType = "exception_type"
        case firstSeen = "first_seen"
        case resolvedAt = "resolved_at"
        case resolvedInVersion = "resolved_in_version"
    }

    /// The notification of `change` for one of its owners.
    public init(_ change: TicketChange, owner: String) {
        key = Self.key(ticketId: change.ticketId, opening: change.opening, owner: owner)
        ticketId = change.ticketId
        service = change.service
        self.owner = owner
        self.change = change.opening == 1 ? "opened" : "reopened"
        reason = change.reason.rawValue
        opening = change.opening
        fingerprint = change.fingerprint
        exceptionType = change.exceptionType
        title = change.title
        at = Self.timestamp(change.at)
        firstSeen = Self.timestamp(change.firstSeen)
        level = change.level
        host = change.host
        version = change.version
        message = change.message
        resolvedAt = change.resolvedAt.map(Self.timestamp)
        resolvedInVersion = change.resolvedInVersion
    }

    /// The idempotency key of the notification of a ticket's `opening` for `owner`.
    public static func key(ticketId: String, opening: Int, owner: String) -> String {
        "\(ticketId)-\(opening)-\(owner)"
    }

    /// The notification as one line of JSON, without the newline: keys sorted, absent values
    /// written as `null`, so every field is there for a reader that expects it.
    public func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Milliseconds, as the tickets topic carries them: `2026-01-05T10:42:07.125Z`.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// Writes every field, optionals as `null` rather than leaving their keys out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(ticketId, forKey: .ticketId)
        try container.encode(service, forKey: .service)
        try container.encode(owner, forKey: .owner)
        try container.encode(change, forKey: .change)
        try container.encode(reason, forKey: .reason)
        try container.encode(opening, forKey: .opening)
        try container.encode(fingerprint, forKey: .fingerprint)
        try container.encode(exceptionType, forKey: .exceptionType)
        try container.encode(title, forKey: .title)
        try container.encode(at, forKey: .at)
        try container.encode(firstSeen, forKey: .firstSeen)
        try container.encode(level, forKey: .level)
        try container.encode(host, forKey: .host)
        try container.encode(version, forKey: .version)
        try container.encode(message, forKey: .message)
        try container.encode(resolvedAt, forKey: .resolvedAt)
        try container.encode(resolvedInVersion, forKey: .resolvedInVersion)
    }
}
