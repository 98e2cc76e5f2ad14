import Foundation
import Runnel

/// A ticket as the exceptions and tickets pages list it.
struct TicketSummary: Encodable, Sendable {
    var id: String
    var service: String
    var owner: String?
    var exceptionType: String
    /// The level of the sample exception.
    var level: String
    var state: String
    var firstSeen: Date
    var lastSeen: Date
    /// Exceptions in the window the page shows (the chart's hours; the last 24 for `/tickets`).
    var countInWindow: Int64
    /// Per hour of that window, oldest first.
    var countsByHour: [Int64]
    var sampleMessage: String

    init(_ ticket: ExceptionReport.Ticket) {
        id = ticket.id
        service = ticket.service
        owner = ticket.owner
        exceptionType = ticket.exceptionType
        level = ticket.level
        state = ticket.state
        firstSeen = ticket.firstSeen
        lastSeen = ticket.lastSeen
        countInWindow = ticket.countLast24h
        countsByHour = ticket.countsByHour
        sampleMessage = ticket.sampleMessage
    }
}
