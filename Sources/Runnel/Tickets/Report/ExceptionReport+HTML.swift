import Foundation

extension ExceptionReport {
    /// The report as a self-contained XHTML page (`reports/exceptions/<fileStem>.html`): new and
    /// regressed tickets in full, the 24-hour chart as inline SVG, exception types by level for
    /// the hour, then the ongoing tickets. No scripts, no external files; the inline style sheet
    /// only lays things out.
    ///
    /// The page is well-formed XML, and its parts carry stable hooks for tools and tests:
    /// `#new-tickets`, `#chart`, `#types-by-level` and `#ongoing-tickets` sections, tickets with
    /// `class="ticket …"` and `data-ticket-id`, `<polyline data-service>` lines, and
    /// `<tr data-type data-level>` rows.
    public func html() -> String {
        let hourText = ReportTime.iso8601(seconds: ReportTime.hourStart(of: hour))
        var writer = MarkupWriter()
        ReportPage.start(title: "Exceptions — " + title + " — " + hourText, into: &writer)

        writer.open("header")
        writer.open("nav")
        writer.element("a", [("href", "index.html")], text: "All hours")
        writer.close()
        writer.open("h1")
        writer.text("Exceptions: " + title)
        writer.close()
        writer.open("p", [("class", "hour")])
        writer.text("Hour starting ")
        writer.element("time", [("datetime", hourText)], text: hourText)
        writer.text(" (UTC)")
        writer.close()
        writer.element("p", [("class", "summary")], text: summary)
        writer.close()

        renderNewTickets(into: &writer)

        let chart = CountChart(counts: hourlyCounts, endingWith: hour)
        writer.open("section", [("id", "chart")])
        writer.element("h2", text: "Exceptions per service, last 24 hours")
        chart.render(into: &writer)
        writer.element("p", [("class", "caption")], text: chart.caption)
        writer.close()

        renderTypesByLevel(into: &writer)

        writer.open("section", [("id", "ongoing-tickets")])
        writer.element("h2", text: "Ongoing tickets")
        let ongoing = ongoingTickets
        if ongoing.isEmpty {
            writer.element("p", [("class", "empty")], text: "No ongoing exceptions in the last 24 hours.")
        } else {
            TicketTable.render(ongoing, showChange: false, showState: true, into: &writer)
        }
        writer.close()

        return ReportPage.finish(&writer)
    }

    /// `2 new, 1 regressed, 5 ongoing tickets; 1234 exceptions this hour.`
    var summary: String {
        let new = tickets.count(where: { $0.change == .new })
        let regressed = tickets.count(where: { $0.change == .regressed })
        let ongoing = tickets.count(where: { $0.change == .ongoing })
        return String(new) + " new, " + String(regressed) + " regressed, " + String(ongoing) + " ongoing "
            + (tickets.count == 1 ? "ticket" : "tickets") + "; "
            + ReportNumber.count(exceptionsThisHour, "exception", "exceptions") + " this hour."
    }

    private func renderNewTickets(into writer: inout MarkupWriter) {
        writer.open("section", [("id", "new-tickets")])
        writer.element("h2", text: "New and regressed tickets")
        let shown = newAndRegressedTickets
        if shown.isEmpty {
            writer.element("p", [("class", "empty")], text: "No new or regressed exceptions this hour.")
        }
        for ticket in shown {
            Self.renderFull(ticket, into: &writer)
        }
        writer.close()
    }

    /// One ticket with all its fields, sample message and stack trace.
    private static func renderFull(_ ticket: Ticket, into writer: inout MarkupWriter) {
        let change = ticket.change.rawValue
        writer.open("article", [("class", "ticket " + change), ("id", "ticket-" + ticket.id), ("data-ticket-id", ticket.id)])
        writer.open("h3")
        writer.element("span", [("class", "badge " + change)], text: change.uppercased())
        writer.text(" #" + ticket.id + " " + ticket.exceptionType + " in " + ticket.service)
        writer.close()

        writer.open("dl", [("class", "fields")])
        func field(_ name: String, _ value: String) {
            writer.element("dt", text: name)
            writer.element("dd", text: value)
        }
        field("Ticket", ticket.id)
        field("Service", ticket.service)
        writer.element("dt", text: "Owner")
        TicketTable.owner(ticket.owner, element: "dd", into: &writer)
        field("Exception type", ticket.exceptionType)
        field("Level", ticket.level)
        field("State", ticket.state)
        writer.element("dt", text: "First seen")
        TicketTable.time(ticket.firstSeen, element: "dd", into: &writer)
        writer.element("dt", text: "Last seen")
        TicketTable.time(ticket.lastSeen, element: "dd", into: &writer)
        writer.element("dt", text: "Last 24 hours")
        writer.open("dd")
        let sparkline = Sparkline(ticket.countsByHour)
        sparkline.render(into: &writer)
        writer.text(" " + ReportNumber.count(ticket.countLast24h, "exception", "exceptions")
            + ", at most " + String(sparkline.peak) + " in an hour")
        writer.close()
        writer.element("dt", text: "Fingerprint")
        writer.open("dd")
        writer.element("code", text: ticket.fingerprint)
        writer.close()
        writer.close()

        writer.element("h4", text: "Sample message")
        writer.preformatted(ticket.sampleMessage, [("class", "message")])
        writer.element("h4", text: "Stack trace")
        writer.preformatted(ticket.sampleStackTrace, [("class", "stack-trace")])
        writer.close()
    }

    private func renderTypesByLevel(into writer: inout MarkupWriter) {
        writer.open("section", [("id", "types-by-level")])
        writer.element("h2", text: "Exception types by level, this hour")
        let rows = orderedTypesByLevel
        if rows.isEmpty {
            writer.element("p", [("class", "empty")], text: "No exceptions this hour.")
        } else {
            writer.open("table")
            writer.open("thead")
            writer.open("tr")
            writer.element("th", text: "exception type")
            writer.element("th", text: "level")
            writer.element("th", [("class", "number")], text: "count")
            writer.close()
            writer.close()
            writer.open("tbody")
            for row in rows {
                writer.open("tr", [("data-type", row.exceptionType), ("data-level", row.level), ("data-count", String(row.count))])
                writer.element("td", text: row.exceptionType)
                writer.element("td", text: row.level)
                writer.element("td", [("class", "number")], text: String(row.count))
                writer.close()
            }
            writer.close()
            writer.close()
        }
        writer.close()
    }
}
