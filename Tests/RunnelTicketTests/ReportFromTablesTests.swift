import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

/// The hourly report and the dashboard as the tickets pipeline's tables make them: what they
/// show, and that the files are the same bytes however often and after whatever rebuild they
/// are written.
@Suite("Reports from the tickets tables")
struct ReportFromTablesTests {
    typealias R = ReportFromTablesFixtures
    typealias F = TicketPipelineFixtures

    static let npe = R.ticketID("search", type: R.npeType, message: "null", frames: F.nullTrace)
    static let parse = R.ticketID("search", type: "java.lang.IllegalArgumentException", message: "Bad query", frames: ["com.shop.search.Query.parse"])
    static let timeout = R.ticketID("checkout", type: "java.util.concurrent.TimeoutException", message: "Timed out after 150 ms", frames: F.timeoutTrace)
    static let oom = R.ticketID("checkout", type: "java.lang.OutOfMemoryError", message: "Java heap space", frames: ["com.shop.pay.Report.build"])

    /// A driver that has run the pipeline over the fixtures.
    func ranDriver(batchSize: Int = 1_000) throws -> PipelineTestDriver {
        let driver = try R.driver(batchSize: batchSize)
        try driver.run()
        #expect(try driver.deadLetters().isEmpty)
        return driver
    }

    func folder(_ driver: PipelineTestDriver) -> URL {
        ExceptionReportWriter.folder(in: driver.home.home)
    }

    @discardableResult
    func write(_ driver: PipelineTestDriver, hour: Date = R.hour13) throws -> ExceptionReportWriter.Files {
        try ExceptionReportWriter(store: driver.store, title: "shop").write(hour: hour)
    }

    @Test("the report reads the tickets of the 24 hours and those opened in the hour, with their changes, states and counts")
    func ticketsOfTheWindow() throws {
        let driver = try ranDriver()
        let report = try driver.store.derived.read { db in try ExceptionReport.read(hour: R.hour13.addingTimeInterval(1_234), title: "shop", from: db) }
        #expect(report.hour == R.hour13)
        let tickets = Dictionary(uniqueKeysWithValues: report.tickets.map { ($0.id, $0) })
        #expect(Set(tickets.keys) == [Self.npe, Self.parse, R.ledgerTicketID, Self.timeout, R.indexTicketID], "oom is older than 24 hours")
        #expect(tickets[Self.npe]?.change == .new)
        #expect(tickets[Self.parse]?.change == .new, "returned after the baseline shows as new")
        #expect(tickets[R.ledgerTicketID]?.change == .regressed)
        #expect(tickets[Self.timeout]?.change == .ongoing)
        #expect(tickets[R.indexTicketID]?.change == .ongoing)
        #expect(tickets[R.indexTicketID]?.state == "resolved")
        #expect(tickets[R.ledgerTicketID]?.state == "open")

        let timeout = try #require(tickets[Self.timeout])
        #expect(timeout.countsByHour == Array(repeating: 0, count: 20) + [2, 2, 2, 3], "oldest first, 14:02 not in the window")
        #expect(timeout.countLast24h == 9)
        #expect(timeout.owner == "pay-team@example.com, oncall@example.com")
        #expect(timeout.level == "error")
        #expect(timeout.lastSeen == F.day.addingTimeInterval(R.at(14, 2) * 60), "as the ticket stands now")
        #expect(tickets[Self.parse]?.countLast24h == 1, "the day before's exception is outside the window")
        #expect(tickets[R.ledgerTicketID]?.countLast24h == 3)
        #expect(tickets[R.ledgerTicketID]?.sampleMessage == R.ledgerMessage)
        #expect(tickets[R.ledgerTicketID]?.level == "error", "the first sample's level")
    }

    @Test("the HTML parses as XML, and the chart has one 24-point line per service with the services' totals")
    func chartHasOnePointPerHourPerService() throws {
        let driver = try ranDriver()
        let files = try write(driver)
        let xml = try ReportXML(String(decoding: try Data(contentsOf: files.html), as: UTF8.self))
        let lines = xml.all("polyline", insideID: "chart")
        #expect(lines.compactMap { $0["data-service"] } == ["checkout", "search"])
        for line in lines {
            #expect((line["points"] ?? "").split(separator: " ").count == 24, "\(line["data-service"] ?? "")")
        }
        // Totals per service over the window: tickets joined with their hours.
        let markdown = String(decoding: try Data(contentsOf: files.markdown), as: UTF8.self)
        #expect(markdown.contains("| checkout | 12 |"), "timeout 9 + ledger 3")
        #expect(markdown.contains("| search | 5 |"), "npe 3 + index 1 + parse 1")
        _ = try ReportXML(String(decoding: try Data(contentsOf: files.index), as: UTF8.self))
    }

    @Test("types by level are the exceptions sent in the hour, counted in SQL apart from the pipeline")
    func typesByLevelMatchTheRawExceptions() throws {
        let driver = try ranDriver()
        let files = try write(driver)
        let xml = try ReportXML(String(decoding: try Data(contentsOf: files.html), as: UTF8.self))
        let rows = xml.all("tr", insideID: "types-by-level").filter { $0["data-type"] != nil }
        let shown = Set(rows.map { "\($0["data-type"]!) \($0["data-level"]!) \($0["data-count"]!)" })
        let expected = try R.typesByLevel(inHourStarting: R.hour13)
        #expect(expected.count == 6)
        #expect(rows.count == expected.count)
        #expect(shown == expected)
    }

    @Test("new and regressed tickets come first, then the ongoing ones")
    func newAndRegressedFirst() throws {
        let driver = try ranDriver()
        let files = try write(driver)
        let xml = try ReportXML(String(decoding: try Data(contentsOf: files.html), as: UTF8.self))
        let shown = xml.elements.filter { $0["data-ticket-id"] != nil }.map { $0["data-ticket-id"]! }
        #expect(shown == [Self.npe, Self.parse, R.ledgerTicketID, Self.timeout, R.indexTicketID])
        #expect(xml.all("article", insideID: "new-tickets").map { $0["class"] ?? "" } == ["ticket new", "ticket new", "ticket regressed"])
        let markdown = String(decoding: try Data(contentsOf: files.markdown), as: UTF8.self)
        let positions = [Self.npe, Self.parse, R.ledgerTicketID, Self.timeout, R.indexTicketID].map { id in
            markdown.range(of: id).map { markdown.distance(from: markdown.startIndex, to: $0.lowerBound) } ?? -1
        }
        #expect(positions.allSatisfy { $0 >= 0 })
        #expect(positions == positions.sorted())
    }

    @Test("the default hour is the latest with exceptions, even far from now; none before the pipeline has counted any")
    func latestHourWithExceptions() throws {
        let driver = try ranDriver()
        #expect(try driver.store.derived.read(ExceptionReport.latestHour(in:)) == R.hour13.addingTimeInterval(3_600))

        let empty = try PipelineTestDriver(R.tickets.pipeline)
        #expect(throws: RunnelError.self) { try empty.store.derived.read(ExceptionReport.latestHour(in:)) }
        try empty.run()
        #expect(try empty.store.derived.read(ExceptionReport.latestHour(in:)) == nil)
    }

    @Test("before the tickets pipeline has run, writing a report fails saying so and writes nothing")
    func noTablesNoReport() throws {
        let driver = try R.driver()
        let error = try #require(throws: RunnelError.self) { try write(driver) }
        #expect(error.code == .tickets)
        #expect("\(error)".contains("tickets pipeline has not run"))
        #expect(try ReportFile.all(in: driver.home.home).isEmpty)
    }

    @Test("writing an hour twice gives the same bytes")
    func writingTwiceGivesTheSameBytes() throws {
        let driver = try ranDriver()
        try write(driver)
        let first = try R.files(in: folder(driver))
        #expect(Set(first.keys) == ["2026-01-05T13.md", "2026-01-05T13.html", "index.html"])
        try write(driver)
        #expect(try R.files(in: folder(driver)) == first)
    }

    @Test("a rebuild of the pipeline, in other batches, gives byte-identical files")
    func rebuildGivesTheSameFiles() throws {
        let driver = try ranDriver()
        let twelve = R.hour13.addingTimeInterval(-3_600)
        try write(driver, hour: twelve)
        try write(driver)
        let before = try R.files(in: folder(driver))
        #expect(before.count == 5)

        try FileManager.default.removeItem(at: folder(driver))
        driver.batchSize = 2
        try driver.replace(with: R.tickets.pipeline, rebuild: true)
        #expect(throws: (any Error).self, "the rebuild dropped the tables") { try driver.rows(ExceptionTickets.ticketsTable) }
        try driver.run()
        try write(driver, hour: twelve)
        try write(driver)
        #expect(try R.files(in: folder(driver)) == before)
    }

    @Test("the dashboard shows the open tickets, links every report present and charts the newest hour")
    func dashboard() throws {
        let driver = try ranDriver()
        try write(driver)
        let files = try write(driver, hour: R.hour13.addingTimeInterval(-3_600))   // an older hour, written after
        let xml = try ReportXML(String(decoding: try Data(contentsOf: files.index), as: UTF8.self))
        #expect(xml.all("a", insideID: "hours").compactMap { $0["data-hour"] } == ["2026-01-05T13", "2026-01-05T12"])
        let open = Set(xml.all("tr", insideID: "open-tickets").compactMap { $0["data-ticket-id"] })
        #expect(open == [Self.npe, Self.parse, R.ledgerTicketID, Self.timeout, Self.oom], "index is resolved")
        #expect(xml.all("time").first?.text == "2026-01-05T13:00:00Z")
    }

    @Test("the listing shows the dashboard, then the hours newest first, leaving out other files; a write clears abandoned files aside")
    func listing() throws {
        let driver = try ranDriver()
        try write(driver)
        let folder = folder(driver)
        for stray in ["notes.txt", "2026-01-05T11.md.tmp", "2026-13-05T11.md", "2026-01-05T11.txt"] {
            try Data("x".utf8).write(to: folder.appendingPathComponent(stray))
        }
        try write(driver, hour: R.hour13.addingTimeInterval(-3_600))
        let files = try ReportFile.all(in: driver.home.home)
        #expect(files.map(\.url.lastPathComponent) == ["index.html", "2026-01-05T13.html", "2026-01-05T13.md", "2026-01-05T12.html", "2026-01-05T12.md"])
        #expect(files.map(\.stem) == [nil, R.stem13, R.stem13, "2026-01-05T12", "2026-01-05T12"])
        let size = try FileManager.default.attributesOfItem(atPath: files[1].url.path)[.size] as? NSNumber
        #expect(files[1].size == size?.int64Value)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("2026-01-05T11.md.tmp").path))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("notes.txt").path))
    }

    @Test("file stems parse back to their hour, and nothing else does")
    func stems() {
        #expect(ExceptionReport.hour(fileStem: R.stem13) == R.hour13)
        #expect(ExceptionReport.hour(fileStem: "2024-02-29T00") == Date(timeIntervalSince1970: 1_709_164_800))
        let report = ExceptionReport(title: "", hour: R.hour13, tickets: [], hourlyCounts: [], typesByLevel: [])
        #expect(ExceptionReport.hour(fileStem: report.fileStem) == R.hour13)
        for bad in ["2026-01-05T24", "2026-02-29T01", "2026-1-05T13", "2026-01-05 13", "2026-01-05T13:00", "2026-01-05", "", "２026-01-05T13"] {
            #expect(ExceptionReport.hour(fileStem: bad) == nil, "\(bad)")
        }
    }
}
