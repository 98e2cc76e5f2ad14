import ArgumentParser
import Foundation
import GRDB
import Runnel

/// `runnel migrate`: apply the business schema.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending business migrations (NNNN_name.sql) to app.sqlite, in order.",
        discussion: """
            Each file runs in its own transaction and is recorded with its SHA-256. A changed applied \
            file, a gap or a duplicate number stops the run before anything is applied; a failing file \
            leaves nothing behind. Files must be UTF-8, and may not create, alter, drop or write \
            Runnel's own tables (runnel_*, grdb_migrations): such a file is refused, naming its line.
            """)

    @Flag(help: "List applied and pending migrations instead of applying them.") var status = false
    @OptionGroup var migrations: MigrationsOptions
    @OptionGroup var home: HomeOptions

    func run() throws {
        let context = CLIContext.current
        let migrations = try migrations.resolved(context.catalog)
        if status {
            let queue = try Store.openReadOnly(home.resolved, .app)
            let statuses = try SchemaMigrator(migrations).status(queue)
            let rows = statuses.map { status -> [DatabaseValue] in
                [status.number.databaseValue, status.fileName.databaseValue, status.state.rawValue.databaseValue,
                 status.appliedAt.map { ISO8601DateFormatter().string(from: $0) }.databaseValue]
            }
            RowPrinter(format: .table, console: context.console).print(columns: ["number", "file", "state", "applied_at"], rows: rows)
            return
        }
        let store = try Store.open(home.resolved)
        try Self.apply(migrations, to: store, console: context.console)
    }

    /// Applies a set of migrations and says what happened; shared with `demo`.
    static func apply(_ migrations: Migrations, to store: Store, console: Console) throws {
        let applied = try SchemaMigrator(migrations).migrate(store.app)
        if applied.isEmpty {
            console.print("Schema is up to date (\(migrations.origin)).")
        } else {
            for file in applied { console.print("applied \(file.fileName)") }
            console.print("Applied \(applied.count) migration\(applied.count == 1 ? "" : "s") from \(migrations.origin).")
        }
    }
}
