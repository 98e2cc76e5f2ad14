import Foundation
import Runnel
import RunnelCLI
import RunnelTesting
import Testing

/// `runnel report exceptions` and `runnel reports`, in-process, with a small catalog that keeps
/// exception tickets.
@Suite struct ReportCommandTests {
    struct AppException: Codable, Sendable {
        var service: String
        var level: String
        var exceptionType: String
        var message: String
        var occurredAt: Date
    }

    static let topic = "app-exceptions"
    /// 2026-01-05T13:00:00Z.
    static let thirteen = Date(timeIntervalSince1970: 1_767_618_000)

    static var tickets: ExceptionTickets {
        ExceptionTickets(topic: topic, inAppPrefixes: ["com.app."]) {
            Source(topic, as: AppException.self, time: \.occurredAt).map { exception in
                ExceptionOccurrence(service: exception.service, host: "web-1", level: exception.level, exceptionType: exception.exceptionType,
                                    message: exception.message, stackTrace: "\tat com.app.Api.handle(Api.java:12)", occurredAt: exception.occurredAt,
                                    version: nil, owners: ["app-team"])
            }
        }
    }

    static let catalog = Catalog(name: "app", tickets: tickets)

    /// A home whose tickets count exceptions at 11:10, 12:20 and 13:30 (the latest hour).
    static func home() throws -> PipelineTestDriver {
        let driver = try PipelineTestDriver(try catalog.pipeline(named: tickets.pipelineName))
        for (index, minutes) in [70.0, 140, 210].enumerated() {
            let exception = AppException(service: "api", level: "error", exceptionType: "java.lang.IllegalStateException",
                                         message: "Bad state \(index)", occurredAt: thirteen.addingTimeInterval((minutes - 180) * 60))
            try driver.send(exception, to: topic, key: exception.service, at: exception.occurredAt)
        }
        try driver.run()
        return driver
    }

    func run(_ arguments: [String], catalog: Catalog = Self.catalog) async -> Invocation {
        let transcript = Transcript()
        let status = await RunnelCommand.run(arguments, catalog: catalog, console: transcript.console)
        let (output, error) = transcript.texts
        return Invocation(status: status, output: output, error: error)
    }

    @Test func withoutAnHourTheLatestHourWithExceptionsIsReportedAndItsPathsPrinted() async throws {
        let driver = try Self.home()
        let home = driver.home.home
        let result = await run(["report", "exceptions", "--home", home.url.path])
        #expect(result.status == 0, "\(result.error)")
        let folder = home.url.appendingPathComponent("reports/exceptions").path
        #expect(result.outputLines == ["\(folder)/2026-01-05T13.md", "\(folder)/2026-01-05T13.html", "\(folder)/index.html"])
        for line in result.outputLines {
            #expect(FileManager.default.fileExists(atPath: String(line)))
        }
    }

    @Test func anHourGivenIsReported() async throws {
        let driver = try Self.home()
        let home = driver.home.home.url.path
        let result = await run(["report", "exceptions", "--hour", "2026-01-05T11", "--home", home])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.outputLines.first?.hasSuffix("/reports/exceptions/2026-01-05T11.md") == true)
        let markdown = try String(contentsOfFile: String(result.outputLines[0]), encoding: .utf8)
        #expect(markdown.contains("2026-01-05T11:00:00Z"))
    }

    @Test func aMalformedHourIsAUsageErrorNamingTheOptionAndAnExample() async throws {
        let driver = try Self.home()
        for bad in ["2026-01-05T13:00", "2026-01-05", "2026-02-30T01", "yesterday"] {
            let result = await run(["report", "exceptions", "--hour", bad, "--home", driver.home.home.url.path])
            #expect(result.status == 64, "\(bad)")
            #expect(result.error.contains("--hour \(bad) is not a UTC hour"), "\(result.error)")
            #expect(result.error.contains("such as 2026-01-05T13"), "\(result.error)")
        }
        #expect(try ReportFile.all(in: driver.home.home).isEmpty)
    }

    @Test func aCatalogWithoutTicketsHasNothingToReport() async throws {
        let driver = try Self.home()
        let result = await run(["report", "exceptions", "--home", driver.home.home.url.path], catalog: Catalog(name: "plain"))
        #expect(result.status == 1)
        #expect(result.error.contains("the plain catalog keeps no exception tickets"), "\(result.error)")
    }

    @Test func aHomeWithoutExceptionsSaysWhatToRun() async throws {
        let temporary = try TemporaryHome(label: "report-empty")
        _ = try temporary.openStore()
        let result = await run(["report", "exceptions", "--home", temporary.home.url.path])
        #expect(result.status == 1)
        #expect(result.error.contains("the tickets pipeline has not run"), "\(result.error)")
    }

    @Test func reportsListsTheDashboardThenTheHoursNewestFirst() async throws {
        let driver = try Self.home()
        let home = driver.home.home.url.path
        let none = await run(["reports", "--home", home])
        #expect(none.status == 0)
        #expect(none.output.hasPrefix("No reports in"), "\(none.output)")
        for hour in ["2026-01-05T12", "2026-01-05T13"] {
            #expect(await run(["report", "exceptions", "--hour", hour, "--home", home]).status == 0)
        }
        let listed = await run(["reports", "--home", home, "--format", "csv"])
        #expect(listed.status == 0, "\(listed.error)")
        let rows = listed.outputLines.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.first == ["path", "kind", "hour", "bytes"])
        #expect(rows.dropFirst().map { URL(fileURLWithPath: $0[0]).lastPathComponent }
            == ["index.html", "2026-01-05T13.html", "2026-01-05T13.md", "2026-01-05T12.html", "2026-01-05T12.md"])
        #expect(rows.dropFirst().map { $0[1] } == ["dashboard", "hourly", "hourly", "hourly", "hourly"])
        #expect(rows.dropFirst().map { $0[2] } == ["", "2026-01-05T13", "2026-01-05T13", "2026-01-05T12", "2026-01-05T12"])
        for row in rows.dropFirst() {
            let size = try FileManager.default.attributesOfItem(atPath: row[0])[.size] as? NSNumber
            #expect(row[3] == size?.stringValue)
        }
    }
}
