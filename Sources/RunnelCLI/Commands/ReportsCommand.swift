import ArgumentParser
import Foundation
import GRDB
import Runnel

/// `runnel reports`: the reports written into `reports/`.
struct ReportsCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "reports",
            abstract: "List the reports written: path, kind (dashboard or hourly), hour and size.",
            discussion: """
                The dashboard (reports/exceptions/index.html) first, then the hourly reports, newest hour \
                first. `\(CLIContext.current.programName) report exceptions` writes them, and so does a schedule \
                entry with the .exceptionReport job.
                """)
    }

    @OptionGroup var home: HomeOptions
    @OptionGroup var format: FormatOptions

    func run() throws {
        let context = CLIContext.current
        let files = try ReportFile.all(in: home.resolved)
        guard !files.isEmpty || format.format != .table else {
            context.console.print("No reports in \(home.resolved.reportsURL.path) yet. Write one with `\(context.programName) report exceptions\(home.hintFlag)`.")
            return
        }
        let rows: [[DatabaseValue]] = files.map { file in
            [file.url.path.databaseValue, (file.stem == nil ? "dashboard" : "hourly").databaseValue, file.stem.databaseValue, file.size.databaseValue]
        }
        RowPrinter(format: format.format, console: context.console, maximumCellWidth: 120)
            .print(columns: ["path", "kind", "hour", "bytes"], rows: rows)
    }
}
