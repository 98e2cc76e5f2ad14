import Foundation
import Runnel
import RunnelTesting
import Testing

/// `ScheduledJob.exceptionReport`: the hour it reports, the pipeline run before it, and the
/// catalog check.
@Suite("The scheduled exception report")
struct ReportFromTablesScheduleTests {
    typealias R = ReportFromTablesFixtures

    static func catalog(tickets: ExceptionTickets?) -> Catalog {
        Catalog(name: "shop", schedules: [Schedule("exceptions-hourly", cron: "5 * * * *", job: .exceptionReport)], tickets: tickets)
    }

    @Test("fired at 14:05, it runs the tickets pipeline and writes the 13:00 report")
    func firedAt1405WritesThe1300Report() async throws {
        // The log holds the exceptions; nothing has run the pipeline.
        let driver = try R.driver()
        let scheduler = try Scheduler(store: driver.store, catalog: Self.catalog(tickets: R.tickets))
        let fourteen = R.hour13.addingTimeInterval(3_600)
        try await scheduler.tick(at: fourteen.addingTimeInterval(4 * 60))   // first sight: nothing owed
        let runs = try await scheduler.tick(at: fourteen.addingTimeInterval(5 * 60))
        #expect(runs.map(\.outcome) == [.succeeded], "\(runs.map { $0.reason ?? "" })")

        let folder = ExceptionReportWriter.folder(in: driver.home.home)
        let written = try R.files(in: folder)
        #expect(Set(written.keys) == ["2026-01-05T13.md", "2026-01-05T13.html", "index.html"])
        #expect(try driver.rows(ExceptionTickets.ticketsTable).count == 6, "the job ran the pipeline first")
        // What the job wrote is the 13:00 report of the whole log, as written by hand.
        try FileManager.default.removeItem(at: folder)
        try ExceptionReportWriter(store: driver.store, title: "shop").write(hour: R.hour13)
        #expect(try R.files(in: folder) == written)
    }

    @Test("a catalog without tickets is refused, naming the entry")
    func refusedWithoutTickets() throws {
        let error = try #require(throws: RunnelError.self) { try Self.catalog(tickets: nil).validate() }
        #expect(error.code == .schedule)
        #expect("\(error)".contains("schedule exceptions-hourly writes the exception report, but the shop catalog keeps no exception tickets"))
        try Self.catalog(tickets: R.tickets).validate()
    }

    @Test("at 5 past, the pipelines entry and the report entry both run the tickets pipeline, taking turns, and both succeed")
    func entriesFiringAtOneMinuteTakeTurns() async throws {
        let driver = try R.driver()
        let catalog = Catalog(name: "shop", schedules: [
            Schedule("pipelines-every-5m", cron: "*/5 * * * *", job: .pipelines(R.tickets.pipelineName)),
            Schedule("exceptions-hourly", cron: "5 * * * *", job: .exceptionReport),
        ], tickets: R.tickets)
        let scheduler = try Scheduler(store: driver.store, catalog: catalog)
        let fourteen = R.hour13.addingTimeInterval(3_600)
        try await scheduler.tick(at: fourteen.addingTimeInterval(4 * 60))
        // Several fire times, so that the two entries meet at least once mid-run.
        for minute in [5, 65, 125] {
            let runs = try await scheduler.tick(at: fourteen.addingTimeInterval(Double(minute) * 60))
            #expect(runs.count == 2)
            #expect(runs.allSatisfy { $0.outcome == .succeeded }, "\(runs.map { "\($0.entry): \($0.reason ?? "")" })")
        }
    }
}
