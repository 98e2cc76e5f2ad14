import Foundation
import Runnel

/// `/exceptions`, `/tickets` and `/exceptions/tickets/{id}`: the exceptions dashboard, the
/// ticket list and one ticket.
enum ExceptionsPages {
    /// The ranges offered above the chart, in hours.
    static let ranges = [6, 24, 72, 168]

    /// - Parameter hasReports: Whether `reports/exceptions/index.html` exists, to link to it.
    static func exceptions(_ payload: ExceptionsPayload, hasReports: Bool, home: RunnelHome) -> [String: Any] {
        var context = PageContext.base(title: "Exceptions", nav: "exceptions", api: "/api/exceptions?hours=\(payload.hours)", home: home)
        context["hours"] = payload.hours
        context["ranges"] = ranges.map { ["hours": $0, "current": $0 == payload.hours] as [String: Any] }
        if let latest = payload.latestHour {
            context["latest_hour"] = PageContext.time(latest)
            let chart = CountChart(counts: payload.serviceHours, endingWith: latest, hours: payload.hours)
            context["chart"] = chart.svg()
            context["caption"] = chart.caption
        }
        context["types"] = payload.typesByLevel.map { ["type": $0.exceptionType, "level": $0.level, "count": $0.count] as [String: Any] }
        context["has_types"] = !payload.typesByLevel.isEmpty
        context["tickets"] = payload.openTickets.map(row)
        context["has_tickets"] = !payload.openTickets.isEmpty
        context["ticket_count"] = payload.openTickets.count
        if hasReports { context["reports"] = "/reports/exceptions/" }
        return context
    }

    static func tickets(_ payload: TicketsPayload, home: RunnelHome) -> [String: Any] {
        var context = PageContext.base(title: "Tickets", nav: "tickets", api: "/api/tickets?state=\(payload.state)", home: home)
        context["states"] = TicketsPayload.states.map { ["state": $0, "current": $0 == payload.state] as [String: Any] }
        context["state"] = payload.state
        context["tickets"] = payload.tickets.map(row)
        context["has_tickets"] = !payload.tickets.isEmpty
        context["ticket_count"] = payload.tickets.count
        context["latest_hour"] = PageContext.time(payload.latestHour)
        return context
    }

    static func ticket(_ payload: TicketDetailPayload, home: RunnelHome) -> [String: Any] {
        let ticket = payload.ticket
        var context = PageContext.base(title: "Ticket " + ticket.id, nav: "tickets", api: "/api/tickets/" + ticket.id, home: home)
        context["ticket"] = row(ticket)
        context["fingerprint"] = payload.fingerprint
        context["trace"] = payload.sampleStackTrace
        context["day_ending"] = PageContext.time(payload.dayEndingWith)
        context["counts"] = ticket.countsByHour.map(String.init).joined(separator: " ")
        context["sparkline"] = Sparkline(ticket.countsByHour).svg()
        return context
    }

    private static func row(_ ticket: TicketSummary) -> [String: Any] {
        [
            "id": ticket.id, "service": ticket.service, "owner": ticket.owner ?? "", "type": ticket.exceptionType, "level": ticket.level,
            "state": ticket.state, "first_seen": PageContext.time(ticket.firstSeen), "last_seen": PageContext.time(ticket.lastSeen),
            "count": ticket.countInWindow, "message": ticket.sampleMessage,
        ]
    }
}
