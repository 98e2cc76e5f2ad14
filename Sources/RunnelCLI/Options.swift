import ArgumentParser
import Foundation
import Runnel

/// `--home DIR`, shared by every command; an application's own commands take it with
/// `@OptionGroup var home: HomeOptions`.
public struct HomeOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The Runnel home folder (default: $RUNNEL_HOME, else ./.runnel).", valueName: "dir"))
    public var home: String?

    public init() {}

    /// The home the option names, or the default.
    public var resolved: RunnelHome { RunnelHome.resolve(home) }

    /// `--home DIR` to repeat in hints, or nothing when the default applies.
    var hintFlag: String { home.map { " --home \($0)" } ?? "" }
}

/// `--db app|derived`.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "Which database: app (business tables, outbox) or derived (read views, pipeline state).")
    var db: DatabaseRole = .app
}

/// `--format table|json|csv`.
struct FormatOptions: ParsableArguments {
    @Option(name: .long, help: "Output format: table, json (one object per line) or csv.")
    var format: OutputFormat = .table
}

extension DatabaseRole: ExpressibleByArgument {}

/// How rows are printed.
enum OutputFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    case table, json, csv
}

/// `--migrations DIR`, resolved against the catalog's default.
struct MigrationsOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Folder of NNNN_name.sql business migrations (default: the ones built into the program).", valueName: "dir"))
    var migrations: String?

    func resolved(_ catalog: Catalog) throws -> Migrations {
        if let migrations {
            return .folder(URL(fileURLWithPath: (migrations as NSString).expandingTildeInPath, isDirectory: true))
        }
        guard let builtIn = catalog.migrations else {
            throw RunnelError(.invalidArgument, "the \(catalog.name) catalog has no migrations", hint: "Pass --migrations DIR")
        }
        return builtIn
    }
}
