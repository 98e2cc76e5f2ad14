import ArgumentParser
import GRDB
import Runnel

/// `runnel demo`: the whole path so far, on a fresh or existing home, then a summary.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Create a home, apply the schema, load the sample data, and show what is where.",
        discussion: "Safe to run twice: each step only does what is still missing.")

    @OptionGroup var home: HomeOptions

    func run() throws {
        let context = CLIContext.current
        let console = context.console
        let home = home.resolved
        console.print("== Runnel demo: \(context.catalog.name)")
        console.print("-- home: \(home.url.path)")
        let store = try Store.open(home)

        if let directory = context.catalog.migrationsDirectory {
            console.print("-- migrate")
            try MigrateCommand.apply(directory, to: store, console: console)
        }
        if let dataset = context.catalog.sampleData {
            console.print("-- sample load")
            try SampleLoad.load(dataset.defaultFile, dataset: dataset, into: store, console: console, hint: self.home.hintFlag)
        }
        try summarize(store, console: console)
    }

    private func summarize(_ store: Store, console: Console) throws {
        let flag = self.home.hintFlag
        let (tables, topics) = try store.app.read { db in
            let names = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table'
                AND name NOT LIKE 'runnel_%' AND name NOT LIKE 'grdb_%' AND name NOT LIKE 'sqlite_%' ORDER BY name
                """)
            let tables = try names.map { ($0, try Int.fetchOne(db, sql: "SELECT count(*) FROM \(SQLIdentifier.quoted($0))") ?? 0) }
            let topics = try Row.fetchAll(db, sql: "SELECT topic, count(*) AS events FROM runnel_outbox GROUP BY topic ORDER BY topic")
                .map { ($0["topic"] as String, $0["events"] as Int) }
            return (tables, topics)
        }
        console.print("")
        console.print("What is where (\(store.home.url.path)):")
        console.print("  app.sqlite      business tables:")
        for (name, rows) in tables { console.print("                    \(name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(rows) rows") }
        console.print("  app.sqlite      outbox (runnel_outbox), waiting for the relay:")
        for (topic, events) in topics { console.print("                    \(topic.padding(toLength: 24, withPad: " ", startingAt: 0)) \(events) events") }
        console.print("  derived.sqlite  read views and pipeline state (empty until pipelines run)")
        console.print("")
        console.print("Try next:")
        console.print("  runnel inspect tables\(flag)")
        console.print("  runnel inspect table members --limit 5\(flag)")
        console.print("  runnel inspect outbox --limit 5 --format json\(flag)")
        console.print("  runnel inspect sql \"SELECT type, count(*) FROM runnel_outbox GROUP BY type\"\(flag)")
        console.print("  runnel migrate --status\(flag)")
    }
}
