import ArgumentParser
import Foundation
import GRDB
import Runnel

/// `runnel saga …`: the instances of the catalog's sagas in `app.sqlite`, and the operator's
/// actions on them.
struct SagaCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        let program = CLIContext.current.programName
        return CommandConfiguration(
            commandName: "saga",
            abstract: "List and show saga instances; abort a running one, retry a failed one.",
            discussion: """
                An instance is named by its saga and business id (`premium-upgrade:42`). Its row is in \
                runnel_sagas and its timeline (commands, replies, timeouts, retries, compensations, \
                operator actions) in runnel_saga_log, both in app.sqlite. abort and retry change the \
                instance and put the compensation it sends in the app outbox, in one transaction; the \
                saga's coordinator carries on from there: `\(program) relay`, the handlers and \
                `\(program) run SAGA`, or followers, do the rest. `\(program) sagas` shows the definitions.
                """,
            subcommands: [List.self, Show.self, Retry.self, Abort.self])
    }

    /// The columns of `saga list`.
    static let listColumns = ["id", "saga", "state", "step", "step_name", "attempt", "started_at", "updated_at", "deadline", "reason"]

    /// `app.sqlite` read-only, after checking it has the saga tables.
    static func openApp(_ home: RunnelHome) throws -> DatabaseQueue {
        let app = try Store.openReadOnly(home, .app)
        guard try app.read({ try $0.tableExists("runnel_sagas") }) else {
            throw RunnelError(.saga, "app.sqlite in \(home.url.path) has no saga tables (runnel_sagas) yet",
                              hint: "Open the home with this version first: `runnel migrate`")
        }
        return app
    }

    /// The saga an instance id belongs to: the name before its first `:`.
    static func saga(of id: String) throws -> Saga {
        let catalog = CLIContext.current.catalog
        guard let colon = id.firstIndex(of: ":"), colon != id.startIndex else {
            throw ValidationError("\(id) is not a saga instance id, which is the saga's name, ':' and the business id (premium-upgrade:42)")
        }
        let name = String(id[..<colon])
        guard let saga = catalog.saga(named: name) else {
            throw RunnelError(.notFound, "the \(catalog.name) catalog has no saga named \(name), so it cannot change instance \(id)",
                              hint: catalog.sagas.isEmpty ? "This catalog has no sagas" : "Its sagas: \(catalog.sagas.map(\.name).joined(separator: ", "))")
        }
        return saga
    }

    /// The not-found error for an id with neither an instance nor a timeline.
    static func unknown(_ id: String, in home: RunnelHome, flag: String) -> RunnelError {
        RunnelError(.notFound, "no saga instance \(id) in \(home.databaseURL(.app).path)",
                    hint: "`runnel saga list\(flag)` shows the instances there are")
    }

    /// A 0-based step as shown: 1-based with its name (`2 hotel`), as `runnel sagas` numbers them.
    static func stepName(_ step: Int?, of saga: String) -> String? {
        guard let step else { return nil }
        return CLIContext.current.catalog.saga(named: saga).flatMap { step < $0.stepNames.count ? $0.stepNames[step] : nil }
    }

    /// A time as ISO 8601 UTC, with milliseconds when there are any.
    static func iso(_ date: Date?) -> String? {
        date.map { RowPrinter.TimeText().iso($0.millisecondsSince1970) }
    }
}

extension SagaCommand {
    /// `runnel saga list`.
    struct List: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: "List saga instances, newest first.",
                discussion: """
                    step is 1-based, as `\(CLIContext.current.programName) sagas` numbers the steps: the one \
                    awaiting its reply when running, the one being undone when compensating. deadline is when \
                    the coordinator next acts on the instance (a reply due, a retry to send). Times are ISO \
                    8601 UTC in every format.
                    """)
        }

        @Option(name: .long, help: ArgumentHelp("Only the instances of this saga.", valueName: "name")) var saga: String?
        @Option(name: .long, help: ArgumentHelp("Only instances in this state: \(SagaState.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "state"))
        var state: String?
        @Option(name: .long, help: "At most this many instances.") var limit = 100
        @OptionGroup var format: FormatOptions
        @OptionGroup var home: HomeOptions

        func validate() throws {
            guard limit > 0 else { throw ValidationError("--limit must be positive") }
            if let state, SagaState(rawValue: state) == nil {
                throw ValidationError("--state \(state) is not a saga state; choose one of: \(SagaState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() throws {
            let context = CLIContext.current
            if let saga, context.catalog.saga(named: saga) == nil {
                let names = context.catalog.sagas.map(\.name)
                throw ValidationError("the \(context.catalog.name) catalog has no saga named \(saga); "
                                      + (names.isEmpty ? "it has no sagas" : "choose one of: \(names.joined(separator: ", "))"))
            }
            let instances = try SagaCommand.openApp(home.resolved).read { db in
                try SagaRecords.list(in: db, saga: saga, state: state.flatMap(SagaState.init(rawValue:)), limit: limit)
            }
            let rows: [[DatabaseValue]] = instances.map { instance in
                [instance.id.databaseValue, instance.saga.databaseValue, instance.state.rawValue.databaseValue, (instance.step + 1).databaseValue,
                 SagaCommand.stepName(instance.step, of: instance.saga).databaseValue, instance.attempt.databaseValue,
                 SagaCommand.iso(instance.startedAt).databaseValue, SagaCommand.iso(instance.updatedAt).databaseValue,
                 SagaCommand.iso(instance.deadline).databaseValue, instance.reason.databaseValue]
            }
            RowPrinter(format: format.format, console: context.console, maximumCellWidth: 60).print(columns: SagaCommand.listColumns, rows: rows)
        }
    }
}
