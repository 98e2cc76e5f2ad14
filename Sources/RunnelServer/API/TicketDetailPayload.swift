import Foundation
import GRDB
import Runnel

/// `/api/tickets/{id}`: one ticket with its sample stack trace and its exceptions per hour over
/// the 24 hours ending with the latest hour that has any.
struct TicketDetailPayload: Encodable, Sendable {
    var ticket: TicketSummary
    var fingerprint: String
    var sampleStackTrace: String
    /// The start of the last of the 24 hours of ``TicketSummary/countsByHour``.
    var dayEndingWith: Date?

    /// The ticket, or nil when no ticket has this id.
    static func read(id: String, in db: Database) throws -> TicketDetailPayload? {
        guard try db.tableExists(ExceptionTickets.ticketsTable) else { return nil }
        let latest = try ExceptionReport.latestHour(in: db)
        let reader = try TicketTablesReader(db, hourEnding: latest ?? Date())
        let counts = latest == nil ? [:] : try reader.window().countsByTicket
        guard let ticket = try reader.tickets(where: "t.id = ?", arguments: [id], counts: counts, changes: [:]).first else { return nil }
        return TicketDetailPayload(ticket: TicketSummary(ticket), fingerprint: ticket.fingerprint,
                                   sampleStackTrace: ticket.sampleStackTrace, dayEndingWith: latest)
    }
}
