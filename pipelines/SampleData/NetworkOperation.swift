import Foundation
import GRDB
import Runnel

/// One line of a sample network data set: a business operation and its arguments.
///
/// The format (one JSON object per line, `op` naming the operation, `at` its time in milliseconds
/// since 1970) is described in `docs/events.md`. Fields an operation does not use are omitted.
public struct NetworkOperation: Codable, Sendable, Hashable {
    public var op: String
    public var at: Int64
    public var id: Int64?
    public var member: Int64?
    public var other: Int64?
    public var name: String?
    public var email: String?
    public var industry: String?
    public var headline: String?
    public var location: String?
    public var bot: Bool?
    public var kind: String?
    public var page: String?
    public var dwell: Int64?
    public var ua: String?
    public var message: String?
    public var service: String?
    public var team: String?
    public var host: String?
    public var level: String?
    public var type: String?
    public var stack: String?
    public var metric: String?
    public var value: Double?
    /// `exception`: the version of the service that threw; `resolve`: the version the fix ships in.
    public var version: String?
    /// `resolve`: the ticket's id (or, without it, the ticket of `type`, `message` and `stack`).
    public var ticket: String?
    public var note: String?
    public var by: String?
    /// `upgrade`: the premium plan asked for.
    public var plan: String?

    public init(op: String, at: Int64) {
        self.op = op
        self.at = at
    }

    /// Runs the operation through the network's business functions.
    /// - Returns: How many outbox events it appended.
    /// - Throws: ``NetworkError`` for an unknown operation, a missing field or a broken business rule.
    public func apply(with network: Network, in db: Database) throws -> Int {
        let time = Date(millisecondsSince1970: at)
        switch op {
        case "join":
            let joined = MemberJoined(memberId: try need(member, "member"), name: try need(name, "name"),
                                      industry: try need(industry, "industry"), headline: try need(headline, "headline"),
                                      location: try need(location, "location"), isBot: bot ?? false, joinedAt: time)
            return try network.join(joined, email: try need(email, "email"), in: db)
        case "headline":
            return try network.updateHeadline(memberId: try need(member, "member"), to: try need(headline, "headline"), at: time, in: db)
        case "invite":
            return try network.sendInvitation(id: try need(id, "id"), from: try need(member, "member"), to: try need(other, "other"),
                                              message: message, at: time, in: db)
        case "accept":
            return try network.acceptInvitation(id: try need(id, "id"), at: time, in: db)
        case "decline":
            return try network.declineInvitation(id: try need(id, "id"), at: time, in: db)
        case "activity":
            return try network.recordActivity(id: try need(id, "id"), memberId: try need(member, "member"), kind: try need(kind, "kind"),
                                              page: try need(page, "page"), dwellMs: try need(dwell, "dwell"), userAgent: try need(ua, "ua"),
                                              at: time, in: db)
        case "view":
            return try network.viewProfile(id: try need(id, "id"), viewerId: try need(member, "member"), viewedId: try need(other, "other"),
                                           at: time, in: db)
        case "owner":
            return try network.assignOwner(service: try need(service, "service"), team: try need(team, "team"),
                                           ownerEmail: try need(email, "email"), at: time, in: db)
        case "exception":
            let logged = ExceptionLogged(exceptionId: try need(id, "id"), service: try need(service, "service"), host: try need(host, "host"),
                                         level: try need(level, "level"), exceptionType: try need(type, "type"),
                                         message: try need(message, "message"), stackTrace: try need(stack, "stack"), occurredAt: time,
                                         serviceVersion: version)
            return try network.logException(logged, in: db)
        case "resolve":
            let service = try need(service, "service")
            let id = try ticket ?? SampleCatalog.ticketID(service: service, type: try need(type, "type"), message: try need(message, "message"),
                                                           stackTrace: try need(stack, "stack"))
            return try network.resolveTicket(id, service: service, inVersion: version, note: note, by: by, at: time, in: db)
        case "metric":
            return try network.recordHostMetric(host: try need(host, "host"), metric: try need(metric, "metric"),
                                                value: try need(value, "value"), at: time, in: db)
        case "upgrade":
            return try network.requestPremiumUpgrade(id: try need(id, "id"), memberId: try need(member, "member"), plan: try need(plan, "plan"),
                                                     at: time, in: db)
        default:
            throw NetworkError("unknown operation \"\(op)\" (expected join, headline, invite, accept, decline, activity, view, owner, exception, resolve, metric or upgrade)")
        }
    }

    private func need<T>(_ value: T?, _ field: String) throws -> T {
        guard let value else { throw NetworkError("operation \"\(op)\" needs the field \"\(field)\"") }
        return value
    }
}
