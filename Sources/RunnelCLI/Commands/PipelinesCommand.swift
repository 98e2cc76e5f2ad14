import ArgumentParser
import Foundation
import GRDB
import Runnel

/// `runnel pipelines`: what the catalog has and how far each pipeline is.
struct PipelinesCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "pipelines",
            abstract: "List the catalog's pipelines: name, version, description, state and lag (handlers and sagas: `sagas`).",
            discussion: """
                lag_events is how many log records wait for the pipeline now (its committed offsets \
                against the log's current end); lag_ms how far (in event time) the newest record in \
                its topics is ahead of the newest it read. state is "not run" (nothing committed yet), \
                "ok", "rebuilding (read/total records, %)" while a rebuild replays the log (an \
                interrupted rebuild goes on with the next `\(CLIContext.current.programName) run NAME`), or "needs rebuild" when \
                the saved state is from another version. skipped counts, by event type, the records no \
                source of the pipeline took (a type string that matches nothing shows up here; also \
                in runnel_pipeline_skipped_types). Nothing is locked or written: a running pipeline \
                shows its last commit.
                """)
    }

    @OptionGroup var home: HomeOptions
    @OptionGroup var format: FormatOptions

    func run() throws {
        let context = CLIContext.current
        let home = home.resolved
        let pipelines = context.catalog.pipelines
        // Listing never creates a home: a fresh one just has nothing run yet.
        let statuses: [PipelineStatus]
        if home.isInitialized {
            // Without a readable log, the lag is the one stored at the last commit, and saying so.
            var log: Log?
            if FileManager.default.fileExists(atPath: home.logURL.path) {
                do {
                    log = try Log.openForReading(home.logURL)
                } catch {
                    context.console.note("warning: cannot read the log, so each lag is as of the pipeline's last commit: \(error)")
                }
            }
            statuses = try PipelineStatus.read(pipelines, from: try Store.openReadOnly(home, .derived), log: log)
        } else {
            statuses = pipelines.map { PipelineStatus(name: $0.name, state: .notRun) }
        }
        let rows: [[DatabaseValue]] = zip(pipelines, statuses).map { pipeline, status in
            [pipeline.name.databaseValue, pipeline.version.databaseValue, pipeline.description.databaseValue, status.state.description.databaseValue,
             status.eventsIn.databaseValue, status.lagEvents.databaseValue, status.lagMilliseconds.databaseValue, status.updatedAt.databaseValue,
             (status.skippedByType.isEmpty ? "" : RunCommand.skippedTypes(status.skippedByType.mapValues { Int($0) })).databaseValue]
        }
        RowPrinter(format: format.format, console: context.console, maximumCellWidth: 60)
            .print(columns: ["name", "version", "description", "state", "events_in", "lag_events", "lag_ms", "updated_at", "skipped"], rows: rows)
        // Handlers and sagas run with `run` too but are not pipelines: say where they are listed
        // (not in JSON or CSV, which programs read row by row).
        let others = [RunCommand.counted(context.catalog.handlers.count, "handler"), RunCommand.counted(context.catalog.sagas.count, "saga")]
        if format.format == .table, !context.catalog.handlers.isEmpty || !context.catalog.sagas.isEmpty {
            context.console.print("The catalog also has \(others.joined(separator: " and ")): `\(context.programName) sagas` lists them.")
        }
    }
}
