import Foundation
import GRDB
import Runnel

/// The business operations of the sample professional network.
///
/// Each operation runs inside the caller's write transaction on `app.sqlite` and appends its
/// events to the outbox in that same transaction, so a business change and its events commit or
/// roll back together.
///
/// ```swift
/// let network = Network(outbox: store.outbox)
/// try store.app.write { db in
///     try network.updateHeadline(memberId: 7, to: "Staff Engineer at Runnel", at: .now, in: db)
/// }
/// ```
public struct Network: Sendable {
    /// The appender events go through.
    public let outbox: Outbox

    /// Creates the operations over an outbox appender.
    public init(outbox: Outbox) {
        self.outbox = outbox
    }

    // MARK: - Members

    /// A member joins, with a profile.
    /// - Returns: The number of events appended (1).
    @discardableResult
    public func join(_ member: MemberJoined, email: String, in db: Database) throws -> Int {
        let at = member.joinedAt.millisecondsSince1970
        try db.run("""
            INSERT INTO members (member_id, name, email, industry, is_bot, joined_at) VALUES (?, ?, ?, ?, ?, ?)
            """, [member.memberId, member.name, email, member.industry, member.isBot, at])
        try db.run("INSERT INTO profiles (member_id, headline, location, updated_at) VALUES (?, ?, ?, ?)", [member.memberId, member.headline, member.location, at])
        try announce(NetworkTopic.memberProfile, key: member.memberId, "MemberJoined", member, at: member.joinedAt, in: db)
        return 1
    }

    /// A member changes their headline.
    /// - Throws: ``NetworkError`` when the member has no profile.
    @discardableResult
    public func updateHeadline(memberId: Int64, to headline: String, at: Date, in db: Database) throws -> Int {
        guard let previous = try String.fetchOne(db.cachedStatement(sql: "SELECT headline FROM profiles WHERE member_id = ?"), arguments: [memberId]) else {
            throw NetworkError("member \(memberId) has no profile")
        }
        try db.run("UPDATE profiles SET headline = ?, updated_at = ? WHERE member_id = ?", [headline, at.millisecondsSince1970, memberId])
        let event = HeadlineUpdated(memberId: memberId, headline: headline, previousHeadline: previous, updatedAt: at)
        try announce(NetworkTopic.memberProfile, key: memberId, "HeadlineUpdated", event, at: at, in: db)
        return 1
    }

    // MARK: - Connections

    /// A member invites another to connect.
    /// - Throws: ``NetworkError`` when either is unknown, they are the same member, or they are
    ///   already connected.
    @discardableResult
    public func sendInvitation(id: Int64, from inviterId: Int64, to inviteeId: Int64, message: String?, at: Date, in db: Database) throws -> Int {
        guard inviterId != inviteeId else { throw NetworkError("member \(inviterId) cannot invite themselves") }
        try requireMember(inviterId, db)
        try requireMember(inviteeId, db)
        let pair = [min(inviterId, inviteeId), max(inviterId, inviteeId)]
        if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM connections WHERE member_a = ? AND member_b = ?"), arguments: StatementArguments(pair)) == true {
            throw NetworkError("members \(inviterId) and \(inviteeId) are already connected")
        }
        try db.run("""
            INSERT INTO connection_invitations (invitation_id, inviter_id, invitee_id, message, status, sent_at)
            VALUES (?, ?, ?, ?, 'pending', ?)
            """, [id, inviterId, inviteeId, message, at.millisecondsSince1970])
        let event = InvitationSent(invitationId: id, inviterId: inviterId, inviteeId: inviteeId, message: message, sentAt: at)
        try announce(NetworkTopic.connections, key: id, "InvitationSent", event, at: at, in: db)
        return 1
    }

    /// The invitee accepts: the invitation closes and the two members are connected.
    /// - Returns: The number of events appended (2: `InvitationAccepted`, `ConnectionMade`).
    /// - Throws: ``NetworkError`` when the invitation is unknown or no longer pending.
    @discardableResult
    public func acceptInvitation(id: Int64, at: Date, in db: Database) throws -> Int {
        let (inviter, invitee) = try closePendingInvitation(id, as: "accepted", at: at, in: db)
        let (a, b) = (min(inviter, invitee), max(inviter, invitee))
        try db.run("INSERT OR IGNORE INTO connections (member_a, member_b, invitation_id, connected_at) VALUES (?, ?, ?, ?)", [a, b, id, at.millisecondsSince1970])
        let answered = InvitationAnswered(invitationId: id, inviterId: inviter, inviteeId: invitee, answeredAt: at)
        try announce(NetworkTopic.connections, key: id, "InvitationAccepted", answered, at: at, in: db)
        guard db.changesCount > 0 else { return 1 }
        let made = ConnectionMade(memberA: a, memberB: b, invitationId: id, connectedAt: at)
        try announce(NetworkTopic.connections, key: id, "ConnectionMade", made, at: at, in: db)
        return 2
    }

    /// The invitee declines.
    /// - Throws: ``NetworkError`` when the invitation is unknown or no longer pending.
    @discardableResult
    public func declineInvitation(id: Int64, at: Date, in db: Database) throws -> Int {
        let (inviter, invitee) = try closePendingInvitation(id, as: "declined", at: at, in: db)
        let answered = InvitationAnswered(invitationId: id, inviterId: inviter, inviteeId: invitee, answeredAt: at)
        try announce(NetworkTopic.connections, key: id, "InvitationDeclined", answered, at: at, in: db)
        return 1
    }

    private func closePendingInvitation(_ id: Int64, as status: String, at: Date, in db: Database) throws -> (Int64, Int64) {
        guard let row = try Row.fetchOne(db, sql: "SELECT inviter_id, invitee_id, status FROM connection_invitations WHERE invitation_id = ?",
                                         arguments: [id]) else {
            throw NetworkError("invitation \(id) does not exist")
        }
        guard row["status"] as String == "pending" else {
            throw NetworkError("invitation \(id) is already \(row["status"] as String)")
        }
        try db.run("UPDATE connection_invitations SET status = ?, responded_at = ? WHERE invitation_id = ?", [status, at.millisecondsSince1970, id])
        return (row["inviter_id"], row["invitee_id"])
    }

    // MARK: - Activity

    /// Records what a member did; the member's last-active time moves forward.
    /// Whether the activity counts as a bot's comes from the member's account.
    /// - Throws: ``NetworkError`` for an unknown member or an unknown kind.
    @discardableResult
    public func recordActivity(id: Int64, memberId: Int64, kind: String, page: String, dwellMs: Int64, userAgent: String,
                               at: Date, in db: Database) throws -> Int {
        guard ["page_view", "click", "post", "reaction"].contains(kind) else {
            throw NetworkError("unknown activity kind \"\(kind)\" (expected page_view, click, post or reaction)")
        }
        guard let isBot = try Bool.fetchOne(db.cachedStatement(sql: "SELECT is_bot FROM members WHERE member_id = ?"), arguments: [memberId]) else {
            throw NetworkError("member \(memberId) does not exist")
        }
        try db.run("""
            INSERT INTO member_activity (activity_id, member_id, kind, page, dwell_ms, user_agent, is_bot, occurred_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [id, memberId, kind, page, dwellMs, userAgent, isBot, at.millisecondsSince1970])
        try db.run("UPDATE members SET last_active_at = max(coalesce(last_active_at, 0), ?) WHERE member_id = ?", [at.millisecondsSince1970, memberId])
        let event = ActivityRecorded(activityId: id, memberId: memberId, kind: kind, page: page, dwellMs: dwellMs,
                                     userAgent: userAgent, isBot: isBot, occurredAt: at)
        try announce(NetworkTopic.memberActivity, key: memberId, "ActivityRecorded", event, at: at, in: db)
        return 1
    }

    /// One member views another's profile.
    @discardableResult
    public func viewProfile(id: Int64, viewerId: Int64, viewedId: Int64, at: Date, in db: Database) throws -> Int {
        guard viewerId != viewedId else { throw NetworkError("member \(viewerId) viewing their own profile is not a profile view") }
        try requireMember(viewerId, db)
        try requireMember(viewedId, db)
        try db.run("INSERT INTO profile_views (view_id, viewer_id, viewed_id, occurred_at) VALUES (?, ?, ?, ?)", [id, viewerId, viewedId, at.millisecondsSince1970])
        let event = ProfileViewed(viewId: id, viewerId: viewerId, viewedId: viewedId, occurredAt: at)
        try announce(NetworkTopic.profileViews, key: viewedId, "ProfileViewed", event, at: at, in: db)
        return 1
    }

    // MARK: - Operations

    /// Assigns (or reassigns) a service to a team.
    @discardableResult
    public func assignOwner(service: String, team: String, ownerEmail: String, at: Date, in db: Database) throws -> Int {
        try db.run("""
            INSERT INTO service_owners (service, team, owner_email, assigned_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (service) DO UPDATE SET team = excluded.team, owner_email = excluded.owner_email, assigned_at = excluded.assigned_at
            """, [service, team, ownerEmail, at.millisecondsSince1970])
        let event = ServiceOwnerAssigned(service: service, team: team, ownerEmail: ownerEmail, assignedAt: at)
        try announce(NetworkTopic.serviceOwners, key: service, "ServiceOwnerAssigned", event, at: at, in: db)
        return 1
    }

    /// Logs an exception a service threw.
    /// - Throws: ``NetworkError`` when the service has no owner yet, or the level is unknown.
    @discardableResult
    public func logException(_ exception: ExceptionLogged, in db: Database) throws -> Int {
        guard ["warning", "error", "fatal"].contains(exception.level) else {
            throw NetworkError("unknown level \"\(exception.level)\" (expected warning, error or fatal)")
        }
        try requireOwner(exception.service, db)
        try db.run("""
            INSERT INTO service_exceptions (exception_id, service, host, level, exception_type, message, stack_trace, occurred_at, service_version)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [exception.exceptionId, exception.service, exception.host, exception.level, exception.exceptionType,
                             exception.message, exception.stackTrace, exception.occurredAt.millisecondsSince1970, exception.serviceVersion])
        try announce(NetworkTopic.serviceExceptions, key: exception.service, "ExceptionLogged", exception, at: exception.occurredAt,
                     schemaVersion: ExceptionLogged.schemaVersion, in: db)
        return 1
    }

    /// Marks a service's exception ticket fixed, optionally in a version of the service: writes a
    /// `TicketResolved` through the outbox onto the exceptions topic, keyed by the service, where
    /// the tickets pipeline (``SampleCatalog/tickets``) applies it in order with the service's
    /// exceptions. The ticket need not exist yet in `derived.sqlite`; the pipeline dead-letters a
    /// resolution of a ticket it never opened.
    /// - Parameters:
    ///   - ticketId: The ticket's id, ``ExceptionTickets/ticketID(service:fingerprint:)``.
    ///   - inVersion: The version the fix ships in; exceptions from older versions do not reopen it.
    /// - Throws: ``NetworkError`` when the service has no owner or the ticket id is not 12 hex digits.
    @discardableResult
    public func resolveTicket(_ ticketId: String, service: String, inVersion: String?, note: String?, by: String?,
                              at: Date, in db: Database) throws -> Int {
        guard ticketId.count == 12, ticketId.allSatisfy(\.isHexDigit) else {
            throw NetworkError("\"\(ticketId)\" is not a ticket id (12 hex digits)")
        }
        try requireOwner(service, db)
        let resolution = TicketResolved(ticketId: ticketId.lowercased(), service: service, inVersion: inVersion, note: note, resolvedBy: by, resolvedAt: at)
        try SampleCatalog.tickets.record(resolution, in: db, outbox: outbox)
        return 1
    }

    /// Records one measurement of a host.
    @discardableResult
    public func recordHostMetric(host: String, metric: String, value: Double, at: Date, in db: Database) throws -> Int {
        try db.run("INSERT INTO host_metrics (host, metric, recorded_at, value) VALUES (?, ?, ?, ?)", [host, metric, at.millisecondsSince1970, value])
        let event = HostMetricRecorded(host: host, metric: metric, value: value, recordedAt: at)
        try announce(NetworkTopic.hostMetrics, key: host, "HostMetricRecorded", event, at: at, in: db)
        return 1
    }

    // MARK: - Premium

    /// A member asks for a premium plan at the plan's price: the request's row and its
    /// `PremiumUpgradeRequested` event, which starts a `premium-upgrade` saga
    /// (``PremiumUpgradeSaga``) that charges, grants and sends the receipt.
    /// - Returns: The number of events appended (1).
    /// - Throws: ``NetworkError`` for an unknown member or plan.
    @discardableResult
    public func requestPremiumUpgrade(id: Int64, memberId: Int64, plan: String, at: Date, in db: Database) throws -> Int {
        try requireMember(memberId, db)
        guard let cents = try Int64.fetchOne(db.cachedStatement(sql: "SELECT cents FROM premium_plans WHERE plan = ?"), arguments: [plan]) else {
            throw NetworkError("there is no premium plan \"\(plan)\" (premium_plans lists them)")
        }
        try db.run("INSERT INTO premium_upgrades (upgrade_id, member_id, plan, cents, requested_at) VALUES (?, ?, ?, ?, ?)",
                   [id, memberId, plan, cents, at.millisecondsSince1970])
        let event = PremiumUpgradeRequested(upgradeId: id, memberId: memberId, plan: plan, cents: cents, requestedAt: at)
        try announce(SagaTopic.upgrades, key: id, "PremiumUpgradeRequested", event, at: at, in: db)
        return 1
    }

    // MARK: - Helpers

    private func requireMember(_ id: Int64, _ db: Database) throws {
        guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM members WHERE member_id = ?"), arguments: [id]) == true else {
            throw NetworkError("member \(id) does not exist")
        }
    }

    private func requireOwner(_ service: String, _ db: Database) throws {
        guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM service_owners WHERE service = ?"), arguments: [service]) == true else {
            throw NetworkError("service \(service) has no owner; assign one before logging its exceptions or resolving its tickets")
        }
    }

    private func announce<Payload: Encodable & Sendable>(
        _ topic: String, key: some CustomStringConvertible, _ type: String, _ payload: Payload, at: Date, schemaVersion: Int = 1, in db: Database
    ) throws {
        try outbox.append(OutboxEvent(topic: topic, key: key.description, type: type, schemaVersion: schemaVersion, payload: payload,
                                      eventTime: at), in: db)
    }
}

private extension Database {
    /// Runs one statement through the connection's statement cache: business operations sit on
    /// the application's hot path, and GRDB's `execute(sql:)` compiles the SQL anew each time.
    func run(_ sql: String, _ arguments: StatementArguments) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
