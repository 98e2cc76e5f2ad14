import Foundation
import Runnel
import Testing

/// The hourly report and the dashboard as pages: same input, same bytes; well-formed XML; the
/// parts in the documented order, with text escaped.
@Suite struct ReportRenderingTests {
    @Test func renderingTwiceGivesTheSameBytes() {
        let report = ReportFixtures.example
        #expect(report.html() == report.html())
        #expect(report.markdown() == report.markdown())
        let dashboard = ReportFixtures.exampleDashboard
        #expect(dashboard.html() == dashboard.html())
    }

    @Test func inputInAnotherOrderGivesTheSameBytes() {
        let report = ReportFixtures.example
        let reordered = ReportFixtures.reordered(report)
        #expect(reordered != report)
        #expect(Array(reordered.html().utf8) == Array(report.html().utf8))
        #expect(Array(reordered.markdown().utf8) == Array(report.markdown().utf8))

        var dashboard = ReportFixtures.exampleDashboard
        let expected = dashboard.html()
        dashboard.hours = dashboard.hours.reversed() + [dashboard.hours[3]]
        dashboard.openTickets.reverse()
        dashboard.hourlyCounts = reordered.hourlyCounts
        #expect(dashboard.html() == expected)
    }

    @Test func reportAndDashboardParseAsXHTML() throws {
        for (name, page) in [("report", ReportFixtures.example.html()), ("dashboard", ReportFixtures.exampleDashboard.html())] {
            #expect(page.hasPrefix("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">"), "\(name)")
            let xml = try ReportXML(page)
            #expect(xml.elements.first?.name == "html")
            #expect(xml.all("meta").contains { $0["charset"] == "utf-8" }, "\(name)")
            #expect(xml.all("script").isEmpty, "\(name)")
            // Self-contained: the only links are to the other report files beside it.
            for link in xml.all("a") {
                let href = try #require(link["href"])
                #expect(!href.contains(":") || href.hasSuffix(".html") || href.hasSuffix(".md"), "\(href)")
                #expect(!href.contains("//"), "\(href)")
            }
            #expect(xml.elements.allSatisfy { $0["src"] == nil }, "\(name)")
        }
    }

    @Test func hostileTextSurvivesEscapingInEveryField() throws {
        let nasty = ReportFixtures.nastyMessage
        let ticket = ReportFixtures.ticket("7", .new, service: nasty, owner: nasty, type: nasty, level: nasty, message: nasty, trace: nasty)
        var ongoing = ReportFixtures.ticket("8", .ongoing, service: nasty, owner: nasty, type: nasty, level: nasty)
        ongoing.state = nasty
        let report = ExceptionReport(
            title: nasty, hour: ReportFixtures.hour, tickets: [ticket, ongoing],
            hourlyCounts: [.init(service: nasty, hour: ReportFixtures.hour, count: 3)],
            typesByLevel: [.init(exceptionType: nasty, level: nasty, count: 3)])
        let html = report.html()
        let xml = try ReportXML(html)
        #expect(!html.contains("<div"))
        #expect(html.contains("&lt;div class=&quot;card&quot;&gt; &amp; &quot;quoted&quot; &#39;single&#39;"))

        let article = try #require(xml.elements.firstIndex { $0["data-ticket-id"] == "7" })
        let pres = xml.all("pre", inside: article)
        #expect(pres.map { $0["class"] } == ["message", "stack-trace"])
        #expect(pres.allSatisfy { $0.text == nasty })
        #expect(xml.all("polyline").map { $0["data-service"] } == [nasty])
        let row = try #require(xml.all("tr").first { $0["data-type"] != nil })
        #expect(row["data-type"] == nasty && row["data-level"] == nasty)
        #expect(xml.all("h1").first?.text == "Exceptions: " + nasty)

        let dashboard = ExceptionDashboard(title: nasty, hours: ["2026-01-05T13", nasty], openTickets: [ticket],
                                           hourlyCounts: report.hourlyCounts, latestHour: ReportFixtures.hour)
        let dashboardXML = try ReportXML(dashboard.html())
        #expect(dashboardXML.all("a").contains { $0["href"] == nasty + ".html" })
    }

    @Test func controlCharactersDoNotBreakTheXML() throws {
        let text = "NUL \u{0} ESC \u{1B}[31mred\u{1B}[0m CRLF\r\nend\u{FFFF}"
        let report = ExceptionReport(title: text, hour: ReportFixtures.hour,
                                     tickets: [ReportFixtures.ticket("1", .new, message: text, trace: text)],
                                     hourlyCounts: [], typesByLevel: [])
        let xml = try ReportXML(report.html())
        let trace = try #require(xml.all("pre").last)
        #expect(trace.text == "NUL \u{FFFD} ESC \u{FFFD}[31mred\u{FFFD}[0m CRLF\nend\u{FFFD}")
        #expect(!report.markdown().contains("\u{1B}"))
    }

    @Test func newAndRegressedTicketsComeBeforeOngoingOnes() throws {
        let xml = try ReportXML(ReportFixtures.example.html())
        let tickets = xml.elements.filter { ($0["class"] ?? "").split(separator: " ").contains("ticket") }
        let changes = tickets.map { $0["class"]!.split(separator: " ").last! }
        #expect(changes == ["new", "new", "regressed", "ongoing", "ongoing", "ongoing", "ongoing", "ongoing"])
        // Within each change, most exceptions first.
        #expect(tickets.map { $0["data-ticket-id"]! } == ["4102", "4107", "3988", "3120", "2871", "2650", "2533", "1999"])
        let newSection = try #require(xml.index(ofID: "new-tickets"))
        #expect(xml.all("article", inside: newSection).count == 3)
        let sections = xml.all("section").compactMap { $0["id"] }
        #expect(sections == ["new-tickets", "chart", "types-by-level", "ongoing-tickets"])
    }

    @Test func aTicketShowsItsFieldsAndItsStackTraceInAPre() throws {
        let xml = try ReportXML(ReportFixtures.example.html())
        let article = try #require(xml.elements.firstIndex { $0["data-ticket-id"] == "4107" })
        let fields = xml.all("dd", inside: article).map(\.text)
        #expect(fields.contains("no owner"))
        #expect(fields.contains("2026-01-05T13:07:12Z"))
        #expect(fields.contains("2026-01-05T13:58:01Z"))
        #expect(fields.contains("FATAL"))
        let trace = try #require(xml.all("pre", inside: article).first { $0["class"] == "stack-trace" })
        #expect(trace.text == ReportFixtures.swiftTrace)
        #expect(ReportFixtures.example.html().contains("Router.handle&lt;A&gt;(_:)"))
        let sparkline = try #require(xml.all("svg", inside: article).first)
        #expect(sparkline["data-counts"] == Array(repeating: "0", count: 23).joined(separator: " ") + " 3")
    }

    @Test func typesByLevelRowsAreByCountThenTypeThenLevel() throws {
        let report = ReportFixtures.example
        let xml = try ReportXML(report.html())
        let rows = xml.all("tr", insideID: "types-by-level").filter { $0["data-type"] != nil }
        let shown = rows.map { ExceptionReport.TypeLevelCount(exceptionType: $0["data-type"]!, level: $0["data-level"]!, count: Int64($0["data-count"]!)!) }
        #expect(shown.map(\.exceptionType) == [
            "java.lang.NullPointerException", "TimeoutException", "TimeoutException", "SMTPException",
            "java.lang.IllegalStateException", "Swift.FatalError", "CircuitBreakerOpen", "ValidationError", "java.io.IOException",
        ])
        #expect(shown.map(\.level) == ["ERROR", "ERROR", "WARN", "ERROR", "ERROR", "FATAL", "WARN", "INFO", "WARN"])
        #expect(Set(shown) == Set(report.typesByLevel) && shown.count == report.typesByLevel.count)
        // The cells say what the attributes say.
        #expect(rows.map { $0.text.replacingOccurrences(of: "\n", with: "") } == shown.map { $0.exceptionType + $0.level + String($0.count) })
    }

    @Test func emptyReportSaysSoInEachPart() throws {
        let report = ExceptionReport(title: "quiet", hour: ReportFixtures.hour, tickets: [], hourlyCounts: [], typesByLevel: [])
        let xml = try ReportXML(report.html())
        #expect(xml.all("p", insideID: "new-tickets").map(\.text) == ["No new or regressed exceptions this hour."])
        #expect(xml.all("p", insideID: "types-by-level").map(\.text) == ["No exceptions this hour."])
        #expect(xml.all("polyline").isEmpty)
        #expect(xml.all("text", insideID: "chart").contains { $0.text == "No exceptions in the last 24 hours." })
        let markdown = report.markdown()
        #expect(markdown.contains("No new or regressed exceptions this hour."))
        #expect(markdown.contains("No exceptions this hour."))

        let dashboard = ExceptionDashboard(title: "quiet", hours: [], openTickets: [], hourlyCounts: [], latestHour: ReportFixtures.hour)
        let dashboardXML = try ReportXML(dashboard.html())
        #expect(dashboardXML.all("p", insideID: "open-tickets").map(\.text) == ["No open tickets."])
    }

    @Test func timesAreISO8601InUTCAndTheStemIsTheHour() {
        var report = ReportFixtures.example
        #expect(report.fileStem == "2026-01-05T13")
        // A time inside the hour reports that hour.
        report.hour = ReportFixtures.hour.addingTimeInterval(3_599.9)
        #expect(report.fileStem == "2026-01-05T13")
        #expect(report.html().contains("<time datetime=\"2026-01-05T13:00:00Z\">2026-01-05T13:00:00Z</time>"))
        #expect(report.markdown().contains("Hour starting 2026-01-05T13:00:00Z (UTC)."))
        report.hour = Date(timeIntervalSince1970: -1)
        #expect(report.fileStem == "1969-12-31T23")
    }

    @Test func dashboardListsHoursNewestFirstAndOpenTickets() throws {
        let dashboard = ReportFixtures.exampleDashboard
        let xml = try ReportXML(dashboard.html())
        let hours = xml.all("a", insideID: "hours").compactMap { $0["data-hour"] }
        #expect(hours.count == 30)
        #expect(hours.first == "2026-01-05T13" && hours.last == "2026-01-04T08")
        #expect(hours == hours.sorted(by: >))
        #expect(xml.all("a", insideID: "hours").allSatisfy { $0["href"] == ($0["data-hour"] ?? "") + ".html" })
        let rows = xml.all("tr", insideID: "open-tickets").compactMap { $0["data-ticket-id"] }
        #expect(rows == ["4102", "3120", "2871", "3988", "2650", "2533", "4107", "1999"])
        #expect(xml.all("polyline", insideID: "chart").count == ReportFixtures.services.count)
    }
}
