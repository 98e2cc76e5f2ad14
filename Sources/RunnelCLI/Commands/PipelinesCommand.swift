import ArgumentParser
import GRDB
import Runnel

/// `runnel pipelines`: what the catalog has and how far each pipeline is.
struct PipelinesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipelines",
        abstract: "List the catalog's pipelines: name, version, description, state and lag.",
        discussion: """
            lag_events is how many log records wait for the pipeline; lag_ms how far (in event time) \
            the newest record in its topics is ahead of the newest it read. Both are as of its last \
            commit. state is "not run", "ok", or "needs rebuild" when the saved state is from another version.
            """)

    @OptionGroup var home: HomeOptions
    @OptionGroup var format: FormatOptions

    func run() throws {
        let context = CLIContext.current
        let home = home.resolved
        // Listing never creates a home: a fresh one just has nothing run yet.
        let saved: [Row] = home.isInitialized ? try Store.openReadOnly(home, .derived).read { db in
            guard try db.tableExists("runnel_pipelines") else { return [Row]() }
            return try Row.fetchAll(db, sql: "SELECT name, version, events_in, lag_events, lag_ms, updated_at FROM runnel_pipelines")
        } : []
        let byName = Dictionary(uniqueKeysWithValues: saved.map { ($0["name"] as String, $0) })
        let rows: [[DatabaseValue]] = context.catalog.pipelines.map { pipeline in
            let row = byName[pipeline.name]
            let state: String
            if let row {
                state = (row["version"] as Int) == pipeline.version ? "ok" : "needs rebuild (state is version \(row["version"] as Int))"
            } else {
                state = "not run"
            }
            return [pipeline.name.databaseValue, pipeline.version.databaseValue, pipeline.description.databaseValue, state.databaseValue,
                    row?["events_in"] ?? DatabaseValue.null, row?["lag_events"] ?? DatabaseValue.null, row?["lag_ms"] ?? DatabaseValue.null,
                    row?["updated_at"] ?? DatabaseValue.null]
        }
        RowPrinter(format: format.format, console: context.console, maximumCellWidth: 60)
            .print(columns: ["name", "version", "description", "state", "events_in", "lag_events", "lag_ms", "updated_at"], rows: rows)
    }
}
