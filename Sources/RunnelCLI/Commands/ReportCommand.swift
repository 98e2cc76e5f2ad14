import ArgumentParser
import Foundation
import GRDB
import Runnel

/// `runnel report exceptions [--hour 2026-01-05T13]`: writes an hour's exception report and the
/// dashboard into `reports/exceptions/`.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write reports into the home's reports/ folder.",
        subcommands: [Exceptions.self])

    struct Exceptions: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: "Write one hour's exception report (Markdown and HTML) and the dashboard, from the tickets in derived.sqlite.",
                discussion: """
                    Writes reports/exceptions/<hour>.md and <hour>.html and regenerates \
                    reports/exceptions/index.html, each replaced atomically, and prints their paths. The \
                    report shows what the tickets pipeline has committed: run it first \
                    (`\(CLIContext.current.programName) run --all`). Without --hour, the hour reported is the latest \
                    one with exceptions, which may be far from now when the log holds older data. The \
                    same tickets give the same bytes. Contents: docs/tickets.md.
                    """)
        }

        @Option(help: ArgumentHelp("The UTC hour to report, as YYYY-MM-DDTHH, such as 2026-01-05T13 (default: the latest hour with exceptions).",
                                   valueName: "hour"))
        var hour: String?
        @OptionGroup var home: HomeOptions

        func validate() throws {
            if let hour, ExceptionReport.hour(fileStem: hour) == nil {
                throw ValidationError("--hour \(hour) is not a UTC hour: give the day and the hour as YYYY-MM-DDTHH, such as 2026-01-05T13")
            }
        }

        func run() throws {
            let context = CLIContext.current
            guard let tickets = context.catalog.tickets else {
                throw RunnelError(.tickets, "the \(context.catalog.name) catalog keeps no exception tickets, so there is nothing to report",
                                  hint: "Give the catalog tickets: ExceptionTickets(…)")
            }
            let home = home.resolved
            guard home.isInitialized else {
                throw RunnelError(.home, "no Runnel home at \(home.url.path)", hint: "Run `runnel demo` or `runnel init` first")
            }
            let store = try Store.open(home)
            let reported: Date
            if let hour, let date = ExceptionReport.hour(fileStem: hour) {
                reported = date
            } else if let latest = try store.derived.read({ db in try ExceptionReport.latestHour(in: db) }) {
                reported = latest
            } else {
                throw RunnelError(.tickets, "the tickets in \(home.derivedDatabaseURL.path) count no exceptions yet",
                                  hint: "Relay the outbox and run the tickets pipeline first (`runnel relay`, then `runnel run \(tickets.pipelineName)`), or give --hour")
            }
            let files = try ExceptionReportWriter(store: store, title: context.catalog.name).write(hour: reported)
            for url in [files.markdown, files.html, files.index] {
                context.console.print(url.path)
            }
        }
    }
}
