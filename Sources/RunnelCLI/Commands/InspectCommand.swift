import ArgumentParser
import Dispatch
import GRDB
import Runnel

/// `runnel inspect`: read-only views into the home's databases.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Look inside app.sqlite or derived.sqlite (read-only).",
        discussion: "Every inspect command opens the database read-only: a statement that would write is refused and changes nothing.",
        subcommands: [InspectTables.self, InspectTable.self, InspectSQL.self, InspectOutbox.self])
}

/// `--timeout SECONDS`: how long one inspect query may run before it is interrupted.
struct QueryTimeoutOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Stop the query after this many seconds (0: no limit).", valueName: "seconds"))
    var timeout: Double = 30

    func validate() throws {
        guard timeout >= 0, timeout.isFinite else { throw ValidationError("--timeout must be 0 (no limit) or a number of seconds") }
    }

    /// The limit, or `nil` for none.
    var limit: Double? { timeout > 0 ? timeout : nil }
}

/// Read-only access shared by the inspect commands.
enum Inspection {
    /// Opens one database of an existing home read-only and reads from it.
    ///
    /// With a time limit, SQLite is interrupted once it has passed (`sqlite3_interrupt`, through
    /// GRDB's `interrupt()`), so a runaway statement such as an endless recursive CTE stops with
    /// a `.timeout` error instead of running until the user kills it.
    static func read<T>(_ home: RunnelHome, _ role: DatabaseRole, timeout: Double? = nil, _ body: (Database) throws -> T) throws -> T {
        let queue = try Store.openReadOnly(home, role)
        let alarm = timeout.map { seconds in
            let alarm = DispatchWorkItem { queue.interrupt() }
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: alarm)
            return alarm
        }
        defer { alarm?.cancel() }
        do {
            return try queue.read(body)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_INTERRUPT && timeout != nil {
            let seconds = timeout.map { $0 == $0.rounded() ? "\(Int($0))" : "\($0)" } ?? "?"
            throw RunnelError(.timeout, "the query on \(role.fileName) ran past its time limit of \(seconds) s and was stopped (nothing was changed)",
                              hint: "Narrow it (a WHERE clause, a LIMIT, a recursive CTE that ends), or allow longer with --timeout SECONDS (0: no limit)")
        } catch let error as DatabaseError where error.isFailureOfTheDatabase {
            throw RunnelError.database(error, path: queue.path, during: "reading \(role.fileName) for inspect")
        } catch let error as DatabaseError {
            throw RunnelError(.invalidArgument, "\(role.fileName): \(error.message ?? "\(error.resultCode)")",
                              hint: "Check the query; `runnel inspect tables --db \(role.rawValue)` lists the tables")
        }
    }

    /// Compiles one statement and refuses it if it could write.
    static func readOnlyStatement(_ db: Database, _ sql: String, _ role: DatabaseRole) throws -> Statement {
        let statement: Statement
        do {
            statement = try db.makeStatement(sql: sql)
        } catch let error as DatabaseError {
            let reason = error.message ?? "\(error.resultCode)"
            throw RunnelError(.invalidArgument, "cannot compile the query for \(role.fileName): \(reason)",
                              hint: reason.contains("Multiple statements") ? "inspect runs one statement at a time" : "Check the SQL")
        }
        guard statement.isReadonly else {
            throw RunnelError(.readOnly, "inspect only reads, and this statement would change \(role.fileName): \(sql.prefix(60))",
                              hint: "Nothing was changed. Change business data through your application's operations (and their outbox events)")
        }
        return statement
    }

    /// The quoted name of an existing table or view, or an error that says where it does exist.
    static func existingTable(_ name: String, _ db: Database, _ role: DatabaseRole, home: RunnelHome) throws -> String {
        let found = try Bool.fetchOne(db, sql: "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?",
                                      arguments: [name]) ?? false
        guard found else {
            let other: DatabaseRole = role == .app ? .derived : .app
            let elsewhere = (try? read(home, other) { db in
                try Bool.fetchOne(db, sql: "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", arguments: [name])
            }) ?? nil
            throw RunnelError(.notFound, "no table or view named \"\(name)\" in \(role.fileName)",
                              hint: elsewhere == true ? "It is in \(other.fileName): add --db \(other.rawValue)"
                                                      : "`runnel inspect tables --db \(role.rawValue)` lists the tables")
        }
        return SQLIdentifier.quoted(name)
    }
}

struct InspectTables: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tables", abstract: "List tables and views with their row counts.")

    @OptionGroup var home: HomeOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        let role = database.db
        try Inspection.read(home.resolved, role) { db in
            let names = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name
                """)
            let rows = try names.map { name -> [DatabaseValue] in
                let type = try String.fetchOne(db, sql: "SELECT type FROM sqlite_master WHERE name = ?", arguments: [name])
                let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(SQLIdentifier.quoted(name))") ?? 0
                return [name.databaseValue, type.databaseValue, count.databaseValue]
            }
            RowPrinter(format: output.format, console: CLIContext.current.console).print(columns: ["name", "type", "rows"], rows: rows)
        }
    }
}

struct InspectTable: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "table", abstract: "Print rows of one table or view.")

    @Argument(help: "The table or view name.") var name: String
    @Option(help: "At most this many rows.") var limit = 100
    @Option(name: .customLong("where"), help: ArgumentHelp("An SQL condition, for example \"member_id = 7\".", valueName: "expr"))
    var condition: String?
    @OptionGroup var time: QueryTimeoutOptions
    @OptionGroup var home: HomeOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: FormatOptions

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 or more") }
    }

    func run() throws {
        let role = database.db
        try Inspection.read(home.resolved, role, timeout: time.limit) { db in
            let table = try Inspection.existingTable(name, db, role, home: home.resolved)
            var sql = "SELECT * FROM \(table)"
            if let condition { sql += " WHERE (\(condition))" }
            sql += " LIMIT \(limit)"
            let statement = try Inspection.readOnlyStatement(db, sql, role)
            try RowPrinter(format: output.format, console: CLIContext.current.console).print(statement)
        }
    }
}

struct InspectSQL: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "sql", abstract: "Run one read-only SQL statement.",
            discussion: """
                Example: \(CLIContext.current.programName) inspect sql "SELECT topic, count(*) FROM runnel_outbox GROUP BY topic"
                A query still running after --timeout seconds (default 30) is stopped with an error (exit status 1).
                """)
    }

    @Argument(help: "A single SELECT (or other read-only) statement.") var query: String
    @OptionGroup var time: QueryTimeoutOptions
    @OptionGroup var home: HomeOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        let role = database.db
        try Inspection.read(home.resolved, role, timeout: time.limit) { db in
            let statement = try Inspection.readOnlyStatement(db, query, role)
            try RowPrinter(format: output.format, console: CLIContext.current.console).print(statement)
        }
    }
}

struct InspectOutbox: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox", abstract: "List events waiting in the outbox, oldest first.",
        discussion: "In json format the payload and headers are embedded as JSON objects; times are milliseconds since 1970.")

    @Option(help: "Only events on this topic.") var topic: String?
    @Option(help: "At most this many events.") var limit: Int?
    @OptionGroup var home: HomeOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        let role = database.db
        try Inspection.read(home.resolved, role) { db in
            var sql = "SELECT id, topic, key, type, schema_version, event_time, created_at, headers, payload FROM runnel_outbox"
            var arguments: StatementArguments = []
            if let topic {
                sql += " WHERE topic = ?"
                arguments += [topic]
            }
            sql += " ORDER BY id"
            if let limit {
                sql += " LIMIT ?"
                arguments += [limit]
            }
            var printer = RowPrinter(format: output.format, console: CLIContext.current.console)
            printer.jsonColumns = ["payload", "headers"]
            try printer.print(db.makeStatement(sql: sql), arguments: arguments)
        }
    }
}
