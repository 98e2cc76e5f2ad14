import Foundation
import GRDB
import Runnel

/// `/api/tickets?state=open|resolved|all`: the tickets, most recently seen first, with their
/// exceptions over the 24 hours ending with the latest hour that has any.
struct TicketsPayload: Encodable, Sendable {
    static let states = ["open", "resolved", "all"]

    var state: String
    var latestHour: Date?
    var tickets: [TicketSummary]

    static func read(state: String, in db: Database) throws -> TicketsPayload {
        guard try db.tableExists(ExceptionTickets.ticketsTable) else { return TicketsPayload(state: state, latestHour: nil, tickets: []) }
        let latest = try ExceptionReport.latestHour(in: db)
        let reader = try TicketTablesReader(db, hourEnding: latest ?? Date())
        let counts = latest == nil ? [:] : try reader.window().countsByTicket
        let tickets = state == "all"
            ? try reader.tickets(where: "1", arguments: [], counts: counts, changes: [:])
            : try reader.tickets(where: "t.state = ?", arguments: [state], counts: counts, changes: [:])
        return TicketsPayload(state: state, latestHour: latest,
                              tickets: tickets.sorted { ($0.lastSeen, $1.id) > ($1.lastSeen, $0.id) }.map(TicketSummary.init))
    }
}
