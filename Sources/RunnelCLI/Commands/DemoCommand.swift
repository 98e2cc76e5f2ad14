import ArgumentParser
import Foundation
import GRDB
import Runnel

/// `runnel demo`: the whole path so far, on a fresh or existing home, then a summary.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Create a home, apply the schema, load the sample data, relay it into the log, run the pipelines, the handlers and the sagas, and show what is where.",
        discussion: "Safe to run twice: each step only does what is still missing.")

    @OptionGroup var home: HomeOptions

    func run() throws {
        let context = CLIContext.current
        let console = context.console
        let home = home.resolved
        console.print("== Runnel demo: \(context.catalog.name)")
        console.print("-- home: \(home.url.path)")
        let store = try Store.open(home)

        if let migrations = context.catalog.migrations {
            console.print("-- migrate")
            try MigrateCommand.apply(migrations, to: store, console: console)
        }
        if let dataset = context.catalog.sampleData {
            console.print("-- sample load")
            try SampleLoad.load(nil, dataset: dataset, into: store, console: console, hint: self.home.hintFlag)
        }
        console.print("-- relay")
        try RelayCommand.drain(store, batchSize: OutboxRelay.Configuration().batchSize, partitions: 1, console: console)
        if !context.catalog.pipelines.isEmpty {
            console.print("-- run pipelines")
            for pipeline in context.catalog.pipelines {
                try RunCommand.runToEnd(pipeline, store: store, options: .init(), console: console)
            }
            // Derived events wait in derived.sqlite's outbox: publish them too.
            if try store.derived.read({ try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") ?? 0 }) > 0 {
                console.print("-- relay derived events")
                try RelayCommand.drain(store, batchSize: OutboxRelay.Configuration().batchSize, partitions: 1, console: console)
            }
        }
        if !context.catalog.handlers.isEmpty || !context.catalog.sagas.isEmpty {
            console.print("-- run handlers and sagas")
            try Self.runSagas(context.catalog, store: store, console: console)
        }
        if let tickets = context.catalog.tickets {
            // The announcements reached the log with the derived events: tell the owners.
            console.print("-- notify ticket owners")
            let notifier = try TicketNotifier(tickets: tickets, store: store)
            let collected = try notifier.collect()
            let written = try notifier.deliverToFile()
            console.print("   \(collected.notifications) notifications collected, \(written.appended) written to \(notifier.fileURL.path)")
        }
        if context.catalog.tickets != nil, let hour = try store.derived.read({ try ExceptionReport.latestHour(in: $0) }) {
            console.print("-- exception report")
            let files = try ExceptionReportWriter(store: store, title: context.catalog.name).write(hour: hour)
            console.print("   \(files.markdown.path)")
            console.print("   \(files.html.path)")
        }
        if !context.catalog.schedules.isEmpty {
            console.print("-- schedules (`\(context.programName) schedule run\(self.home.hintFlag)` runs them until Ctrl-C)")
            try ScheduleCommand.List.print(context.catalog, store: store, format: .table, console: console)
        }
        try summarize(store, console: console)
    }

    /// Relays, runs every handler and every saga's coordinator, and again, until a whole round
    /// relays nothing and no runner did anything: each saga step is a command relayed to a
    /// handler and a reply relayed back, so an instance needs a few rounds to finish. Then
    /// prints how many instances of each saga ended in each state.
    ///
    /// Run again, it finds everything at the log's end and changes nothing.
    static func runSagas(_ catalog: Catalog, store: Store, console: Console) throws {
        let (log, relay) = try RelayCommand.open(store, batchSize: OutboxRelay.Configuration().batchSize, partitions: 1, console: console)
        defer { try? log.close() }
        let done = try SagaDrain(relay: relay, handlers: catalog.handlers, sagas: catalog.sagas).run()
        let (rounds, relayed, handled, coordinated) = (done.rounds, done.relayed, done.handled, done.coordinated)
        console.print("   \(rounds) round\(rounds == 1 ? "" : "s"): \(relayed) commands and replies relayed, \(handled.handled) commands handled"
            + (handled.duplicates > 0 ? ", \(handled.duplicates) duplicates ignored" : "")
            + (handled.deadLetters + coordinated.deadLetters > 0 ? ", \(handled.deadLetters + coordinated.deadLetters) dead-lettered (runnel_consumer_dead_letters)" : "")
            + ", \(coordinated.started) saga instances started")
        for saga in catalog.sagas {
            let counts = try store.app.read { try SagaRecords.counts(of: saga.name, in: $0) }
            var line = "   \(saga.name): \(counts[.completed, default: 0]) completed, \(counts[.compensated, default: 0]) compensated"
            for state in [SagaState.running, .compensating, .failed] where counts[state, default: 0] > 0 {
                line += ", \(counts[state, default: 0]) \(state.rawValue)"
            }
            console.print(line)
        }
    }

    /// The open tickets, and where the exceptions dashboard is.
    private func summarizeTickets(_ store: Store, console: Console) throws {
        let rows = try TicketsCommand.List.rows(state: .open, service: nil, in: store.derived)
        console.print("  reports/        exception tickets (derived.sqlite) and their reports:")
        let shown = ["id", "service", "exception_type", "count", "last_hour_count", "owner"]
        let indexes = shown.compactMap { TicketsCommand.List.columns.firstIndex(of: $0) }
        let printer = RowPrinter(format: .table, console: console)
        printer.print(columns: shown, rows: rows.map { row in indexes.map { row[$0] } })
        let dashboard = ExceptionReportWriter.folder(in: store.home).appendingPathComponent(ExceptionReportWriter.indexName)
        if FileManager.default.fileExists(atPath: dashboard.path) {
            console.print("                  exceptions dashboard: \(dashboard.path)")
        }
    }

    private func summarize(_ store: Store, console: Console) throws {
        let flag = self.home.hintFlag
        let (tables, pending) = try store.app.read { db in
            let names = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table'
                AND name NOT LIKE 'runnel_%' AND name NOT LIKE 'grdb_%' AND name NOT LIKE 'sqlite_%' ORDER BY name
                """)
            let tables = try names.map { ($0, try Int.fetchOne(db, sql: "SELECT count(*) FROM \(SQLIdentifier.quoted($0))") ?? 0) }
            return (tables, try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_outbox") ?? 0)
        }
        let log = try Log.openForReading(store.home.logURL)
        let topics = try log.topicNames.compactMap { try log.topic($0) }
        console.print("")
        console.print("What is where (\(store.home.url.path)):")
        console.print("  app.sqlite      business tables:")
        for (name, rows) in tables { console.print("                    \(name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(rows) rows") }
        console.print("                  outbox (runnel_outbox): \(pending) rows waiting for the relay")
        console.print("  log/            topics (Kafka-compatible segments):")
        for topic in topics {
            let records = topic.partitions.reduce(Int64(0)) { $0 + $1.endOffset - $1.startOffset }
            // Wide enough for a saga's reply topic (`connection-invitation-replies`).
            console.print("                    \(topic.name.padding(toLength: 30, withPad: " ", startingAt: 0)) \(records) records")
        }
        let views = try store.derived.read { db in
            try Row.fetchAll(db, sql: "SELECT pipeline, view FROM runnel_view_owners ORDER BY pipeline, view").map { row in
                let view: String = row["view"]
                return (row["pipeline"] as String, view, try Int.fetchOne(db, sql: "SELECT count(*) FROM \(SQLIdentifier.quoted(view))") ?? 0)
            }
        }
        console.print("  derived.sqlite  read views, built by pipelines from the log:")
        for (pipeline, view, rows) in views {
            console.print("                    \(view.padding(toLength: 30, withPad: " ", startingAt: 0)) \(rows) rows  (\(pipeline))")
        }
        let stores = try KVStoreFolder.all(in: store.home)
        if !stores.isEmpty {
            console.print("  kv/             key-value stores, memory-mapped, for application code:")
            for folder in stores {
                guard let current = try folder.currentVersion() else { continue }
                let manifest = try folder.manifest(of: current)
                console.print("                    \(folder.name.padding(toLength: 30, withPad: " ", startingAt: 0)) v\(current), \(manifest.keyCount) keys  (\(manifest.pipeline ?? "app"))")
            }
            if let features = stores.first(where: { $0.name == "member-features" }), try features.currentVersion() != nil {
                let reader = try KVStore(folder: features)
                let snapshot = reader.snapshot()
                // The first key in the file, so the lookup shows a real value whatever the data.
                var firstKey: [UInt8]?
                try snapshot.forEach { key, _ in if firstKey == nil { firstKey = Array(key) } }
                if let key = firstKey, let value = try snapshot.get(key) {
                    let text = String(decoding: key, as: UTF8.self)
                    console.print("                  lookup: KVStore.open(\"member-features\", in: home).get(\(text))")
                    console.print("                    → \(String(decoding: value, as: UTF8.self))")
                }
            }
        }
        if CLIContext.current.catalog.tickets != nil, try store.derived.read({ try $0.tableExists(ExceptionTickets.ticketsTable) }) {
            try summarizeTickets(store, console: console)
        }
        console.print("")
        // Hints from what this home holds, so an app's demo names its own tables, views and stores.
        let program = CLIContext.current.programName
        console.print("Try next:")
        console.print("  \(program) pipelines\(flag)")
        // The tickets' tables have a command of their own.
        let tickets = CLIContext.current.catalog.tickets
        for (_, view, _) in views.filter({ $0.0 != tickets?.pipelineName }).prefix(2) {
            console.print("  \(program) inspect table \(view) --db derived --limit 5\(flag)")
        }
        if tickets != nil, views.contains(where: { $0.1 == ExceptionTickets.ticketsTable }) {
            console.print("  \(program) tickets list\(flag)")
            if let first = try store.derived.read({ try String.fetchOne($0, sql: "SELECT id FROM \(ExceptionTickets.ticketsTable) ORDER BY last_seen DESC, id LIMIT 1") }) {
                console.print("  \(program) tickets show \(first)\(flag)")
            }
            console.print("  \(program) report exceptions --hour YYYY-MM-DDTHH\(flag)   (writes that hour's report; \(program) reports lists them)")
        }
        if !CLIContext.current.catalog.sagas.isEmpty {
            console.print("  \(program) sagas\(flag)")
            if let compensated = try store.app.read({ try SagaRecords.list(in: $0, state: .compensated, limit: 1).first }) {
                console.print("  \(program) saga show \(compensated.id)\(flag)   (a compensated saga's timeline)")
            }
        }
        console.print("  \(program) run --all --follow\(flag)     (keeps the views and sagas current as the relay appends; Ctrl-C stops it)")
        if let first = stores.first {
            console.print("  \(program) kv list\(flag)")
            console.print("  \(program) kv versions \(first.name)\(flag)")
        }
        console.print("  \(program) inspect tables\(flag)")
        if let (table, _) = tables.first {
            console.print("  \(program) inspect table \(table) --limit 5\(flag)")
        }
        console.print("  \(program) log topics\(flag)")
        if let topic = topics.first {
            console.print("  \(program) log tail \(topic.name) --limit 3 --format json\(flag)")
        }
        console.print("  \(program) relay --follow\(flag)       (relays new commits as they happen; Ctrl-C stops it)")
        console.print("  \(program) migrate --status\(flag)")
    }
}
