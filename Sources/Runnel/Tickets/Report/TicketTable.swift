import Foundation

/// A compact table of tickets, one row each: the report's ongoing tickets and the dashboard's
/// open ones.
enum TicketTable {
    /// `tickets` in the order given. `showChange` adds a column for new/regressed/ongoing,
    /// `showState` one for open/resolved.
    static func render(_ tickets: [ExceptionReport.Ticket], showChange: Bool, showState: Bool, into writer: inout MarkupWriter) {
        writer.open("table", [("class", "tickets")])
        writer.open("thead")
        writer.open("tr")
        writer.element("th", [("class", "number")], text: "ticket")
        if showChange { writer.element("th", text: "change") }
        for heading in ["service", "owner", "exception type", "level"] { writer.element("th", text: heading) }
        if showState { writer.element("th", text: "state") }
        writer.element("th", text: "first seen")
        writer.element("th", text: "last seen")
        writer.element("th", [("class", "number")], text: "last 24 h")
        writer.element("th", text: "per hour")
        writer.close()
        writer.close()
        writer.open("tbody")
        for ticket in tickets {
            writer.open("tr", [("class", "ticket " + ticket.change.rawValue), ("data-ticket-id", ticket.id)])
            writer.element("td", [("class", "number")], text: ticket.id)
            if showChange { writer.element("td", text: ticket.change.rawValue) }
            writer.element("td", text: ticket.service)
            owner(ticket.owner, element: "td", into: &writer)
            writer.element("td", text: ticket.exceptionType)
            writer.element("td", text: ticket.level)
            if showState { writer.element("td", text: ticket.state) }
            time(ticket.firstSeen, element: "td", into: &writer)
            time(ticket.lastSeen, element: "td", into: &writer)
            writer.element("td", [("class", "number")], text: String(ticket.countLast24h))
            writer.open("td")
            Sparkline(ticket.countsByHour).render(into: &writer)
            writer.close()
            writer.close()
        }
        writer.close()
        writer.close()
    }

    /// The owner, or a greyed "no owner".
    static func owner(_ owner: String?, element: String, into writer: inout MarkupWriter) {
        if let owner {
            writer.element(element, text: owner)
        } else {
            writer.element(element, [("class", "no-owner")], text: "no owner")
        }
    }

    /// An ISO 8601 time in a `<time>` element, inside `element`.
    static func time(_ date: Date, element: String, into writer: inout MarkupWriter) {
        let text = ReportTime.iso8601(date)
        writer.open(element)
        writer.element("time", [("datetime", text)], text: text)
        writer.close()
    }
}
