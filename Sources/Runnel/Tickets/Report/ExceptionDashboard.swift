import Foundation

/// The exceptions dashboard, `reports/exceptions/index.html`: the open tickets, the 24-hour
/// chart and links to every hourly report. Like ``ExceptionReport`` a plain value, rendered
/// byte for byte the same whatever the order of its arrays.
public struct ExceptionDashboard: Sendable, Hashable {
    /// What the dashboard is about, e.g. `"sample professional network"`.
    public var title: String
    /// File stems (``ExceptionReport/fileStem``) of the reports written; each links to
    /// `<stem>.html`. Shown newest first, one line per day: stems sort in time order as text,
    /// so they are sorted here (by bytes, descending) and repeats dropped.
    public var hours: [String]
    /// The open tickets, shown most exceptions in 24 hours first, then by id (whatever their
    /// ``ExceptionReport/Ticket/change``: an open ticket needs looking at either way).
    public var openTickets: [ExceptionReport.Ticket]
    /// Exceptions per service per hour for the 24 hours ending with ``latestHour``, for the
    /// chart; handled as ``ExceptionReport/hourlyCounts`` is.
    public var hourlyCounts: [ExceptionReport.ServiceHour]
    /// The start of the latest hour reported (UTC).
    public var latestHour: Date

    public init(title: String, hours: [String], openTickets: [ExceptionReport.Ticket], hourlyCounts: [ExceptionReport.ServiceHour], latestHour: Date) {
        self.title = title
        self.hours = hours
        self.openTickets = openTickets
        self.hourlyCounts = hourlyCounts
        self.latestHour = latestHour
    }

    /// The dashboard as a self-contained XHTML page: the latest hour, the chart (`#chart`), the
    /// open tickets (`#open-tickets`, rows with `data-ticket-id`) and the hourly reports
    /// (`#hours`), newest first, grouped by day.
    public func html() -> String {
        let latest = ReportTime.hourStart(of: latestHour)
        let latestText = ReportTime.iso8601(seconds: latest)
        let stems = orderedHours
        var writer = MarkupWriter()
        ReportPage.start(title: "Exceptions — " + title, into: &writer)

        writer.open("header")
        writer.element("h1", text: "Exceptions: " + title)
        writer.open("p", [("class", "hour")])
        writer.text("Latest hour: ")
        writer.element("time", [("datetime", latestText)], text: latestText)
        writer.text(" (UTC)")
        if let newest = stems.first {
            writer.text(" — ")
            writer.element("a", [("href", newest + ".html")], text: "latest report")
        }
        writer.close()
        writer.element("p", [("class", "summary")], text: ReportNumber.count(Int64(openTickets.count), "open ticket", "open tickets")
            + "; " + ReportNumber.count(Int64(stems.count), "hourly report", "hourly reports") + ".")
        writer.close()

        let chart = CountChart(counts: hourlyCounts, endingWith: latestHour)
        writer.open("section", [("id", "chart")])
        writer.element("h2", text: "Exceptions per service, last 24 hours")
        chart.render(into: &writer)
        writer.element("p", [("class", "caption")], text: chart.caption)
        writer.close()

        writer.open("section", [("id", "open-tickets")])
        writer.element("h2", text: "Open tickets")
        if openTickets.isEmpty {
            writer.element("p", [("class", "empty")], text: "No open tickets.")
        } else {
            let ordered = openTickets.sorted(by: ReportOrder.busiest)
            TicketTable.render(ordered, showChange: true, showState: false, into: &writer)
        }
        writer.close()

        renderHours(stems, into: &writer)
        return ReportPage.finish(&writer)
    }

    /// The stems, newest first, without repeats.
    private var orderedHours: [String] {
        hours.sorted { ReportOrder.precedes($1, $0) }
            .reduce(into: []) { kept, stem in
                if let last = kept.last, ReportOrder.same(last, stem) { return }
                kept.append(stem)
            }
    }

    /// One line per day, `2026-01-05: 13 12 11 …`, each hour a link to its report. A stem not
    /// shaped `<day>T<hour>` gets a line of its own.
    private func renderHours(_ stems: [String], into writer: inout MarkupWriter) {
        writer.open("section", [("id", "hours")])
        writer.element("h2", text: "Hourly reports")
        if stems.isEmpty {
            writer.element("p", [("class", "empty")], text: "No reports yet.")
            writer.close()
            return
        }
        // Stems are sorted, so one day's stems are adjacent: group runs, not through a dictionary.
        var days: [(day: String, stems: [(stem: String, label: String)])] = []
        for stem in stems {
            let parts = stem.split(separator: "T", maxSplits: 1, omittingEmptySubsequences: false)
            let (day, label) = parts.count == 2 ? (String(parts[0]), String(parts[1]) + ":00") : (stem, stem)
            if let last = days.last, ReportOrder.same(last.day, day), parts.count == 2 {
                days[days.count - 1].stems.append((stem, label))
            } else {
                days.append((day, [(stem, label)]))
            }
        }
        writer.open("ul", [("class", "hours")])
        for (day, entries) in days {
            writer.open("li")
            writer.element("strong", text: day)
            writer.text(":")
            for entry in entries {
                writer.text(" ")
                writer.element("a", [("href", entry.stem + ".html"), ("data-hour", entry.stem)], text: entry.label)
            }
            writer.close()
        }
        writer.close()
        writer.close()
    }
}
