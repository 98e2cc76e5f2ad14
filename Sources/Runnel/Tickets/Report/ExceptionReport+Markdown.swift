extension ExceptionReport {
    /// The report as GitHub-flavoured Markdown (`reports/exceptions/<fileStem>.md`), with the
    /// same parts as ``html()`` in the same order. The chart becomes a table of per-service
    /// sparklines, since Markdown has no pictures of its own.
    ///
    /// Text from the tickets is escaped wherever Markdown would read it as syntax (a `|` in a
    /// table cell is `\|`), and messages and stack traces are fenced code blocks whose fence is
    /// longer than any run of backticks inside them.
    public func markdown() -> String {
        let hourStart = ReportTime.hourStart(of: hour)
        var out = "# Exceptions: " + MarkdownText.inline(title) + "\n\n"
        out += "Hour starting " + ReportTime.iso8601(seconds: hourStart) + " (UTC). "
            + "With the chart: [" + fileStem + ".html](" + fileStem + ".html); all hours: [index.html](index.html).\n\n"
        out += summary + "\n\n"

        out += "## New and regressed tickets\n\n"
        let shown = newAndRegressedTickets
        if shown.isEmpty {
            out += "No new or regressed exceptions this hour.\n\n"
        }
        for ticket in shown {
            out += Self.markdownFull(ticket)
        }

        out += "## Exceptions per service, last 24 hours\n\n"
        out += markdownChart()

        out += "## Exception types by level, this hour\n\n"
        let rows = orderedTypesByLevel
        if rows.isEmpty {
            out += "No exceptions this hour.\n\n"
        } else {
            out += "| exception type | level | count |\n|---|---|--:|\n"
            for row in rows {
                out += "| " + MarkdownText.inline(row.exceptionType) + " | " + MarkdownText.inline(row.level) + " | " + String(row.count) + " |\n"
            }
            out += "\n"
        }

        out += "## Ongoing tickets\n\n"
        let ongoing = ongoingTickets
        if ongoing.isEmpty {
            out += "No ongoing exceptions in the last 24 hours.\n"
        } else {
            out += "| ticket | service | owner | exception type | level | state | last seen | last 24 h | per hour |\n"
            out += "|--:|---|---|---|---|---|---|--:|---|\n"
            for ticket in ongoing {
                let cells = [
                    MarkdownText.inline(ticket.id), MarkdownText.inline(ticket.service), Self.markdownOwner(ticket.owner),
                    MarkdownText.inline(ticket.exceptionType), MarkdownText.inline(ticket.level), MarkdownText.inline(ticket.state),
                    ReportTime.iso8601(ticket.lastSeen), String(ticket.countLast24h),
                    MarkdownText.codeSpan(Sparkline(ticket.countsByHour).blocks),
                ]
                out += "| " + cells.joined(separator: " | ") + " |\n"
            }
        }
        return out
    }

    private static func markdownOwner(_ owner: String?) -> String {
        owner.map(MarkdownText.inline) ?? "*no owner*"
    }

    /// One ticket: a heading, its fields as a list, then its sample message and stack trace.
    private static func markdownFull(_ ticket: Ticket) -> String {
        let sparkline = Sparkline(ticket.countsByHour)
        var out = "### " + ticket.change.rawValue.uppercased() + " \\#" + MarkdownText.inline(ticket.id) + " "
            + MarkdownText.inline(ticket.exceptionType) + " in " + MarkdownText.inline(ticket.service) + "\n\n"
        let fields = [
            ("Ticket", MarkdownText.inline(ticket.id)),
            ("Service", MarkdownText.inline(ticket.service)),
            ("Owner", markdownOwner(ticket.owner)),
            ("Exception type", MarkdownText.inline(ticket.exceptionType)),
            ("Level", MarkdownText.inline(ticket.level)),
            ("State", MarkdownText.inline(ticket.state)),
            ("First seen", ReportTime.iso8601(ticket.firstSeen)),
            ("Last seen", ReportTime.iso8601(ticket.lastSeen)),
            ("Last 24 hours", ReportNumber.count(ticket.countLast24h, "exception", "exceptions") + ", at most "
                + String(sparkline.peak) + " in an hour " + MarkdownText.codeSpan(sparkline.blocks)),
            ("Per hour, oldest first", sparkline.numbers),
            ("Fingerprint", MarkdownText.inline(ticket.fingerprint)),
        ]
        for (name, value) in fields {
            out += "- " + name + ": " + value + "\n"
        }
        out += "\nSample message:\n\n" + MarkdownText.codeBlock(ticket.sampleMessage)
        out += "\nStack trace:\n\n" + MarkdownText.codeBlock(ticket.sampleStackTrace) + "\n"
        return out
    }

    /// The chart's numbers as a table: one row per service with its total, peak and sparkline.
    private func markdownChart() -> String {
        let chart = CountChart(counts: hourlyCounts, endingWith: hour)
        var out = chart.windowDescription + "\n\n"
        if chart.series.isEmpty {
            return out + "No exceptions in the last 24 hours.\n\n"
        }
        out += "| service | last 24 h | most in an hour | per hour |\n|---|--:|--:|---|\n"
        for line in chart.series {
            let sparkline = Sparkline(line.counts)
            out += "| " + MarkdownText.inline(line.service) + " | " + String(line.total) + " | " + String(sparkline.peak)
                + " | " + MarkdownText.codeSpan(sparkline.blocks) + " |\n"
        }
        return out + "\n"
    }
}
