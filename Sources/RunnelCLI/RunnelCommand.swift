import ArgumentParser
import Foundation
import GRDB
import Logging
import Runnel

/// The `runnel` command line, usable with any application's catalog.
///
/// An application's executable is one line, optionally with subcommands of its own, listed in
/// help after Runnel's:
///
/// ```swift
/// await RunnelCommand.main(catalog: MyApp.catalog, commands: [RefundCommand.self])
/// ```
///
/// An executable that also depends on RunnelKafka passes `kafka: LibrdkafkaConnector()`, and
/// its `relay --to kafka`, `log mirror --to kafka` and `run --from kafka` work.
///
/// Usage, help and hints name the executable (`shopctl demo`). An application's command reads
/// the catalog and console from ``CLIContext/current`` and can take `--home` with
/// `@OptionGroup var home: HomeOptions`.
public struct RunnelCommand: AsyncParsableCommand {
    /// Read at each parse, so usage and help name the program that runs (see ``run(_:catalog:console:programName:)``).
    public static var configuration: CommandConfiguration {
        let context = CLIContext.current
        return CommandConfiguration(
            commandName: context.programName,
            abstract: "\(context.catalog.name): SQLite-backed batch and nearline pipelines around a transactional outbox.",
            discussion: """
                Everything lives in one home folder (--home DIR, $RUNNEL_HOME, default ./.runnel): \
                app.sqlite (business tables and the outbox), derived.sqlite (read views), log/, kv/, reports/.
                Start with `\(context.programName) demo`.
                """,
            subcommands: [DemoCommand.self, InitCommand.self, MigrateCommand.self, SampleCommand.self, InspectCommand.self,
                          UpCommand.self, StatusCommand.self, RelayCommand.self, LogCommand.self, PipelinesCommand.self, RunCommand.self, SagasCommand.self, SagaCommand.self,
                          KVCommand.self, ScheduleCommand.self,
                          TicketsCommand.self, ReportCommand.self, ReportsCommand.self, ServeCommand.self]
                + context.commands)
    }

    public init() {}

    /// Runs the command line for a process and exits with its status.
    ///
    /// Bootstraps swift-log to standard error (level from `RUNNEL_LOG_LEVEL`, default `warning`;
    /// `RUNNEL_LOG_FORMAT=json` for one JSON object per line): the executable owns the logging
    /// backend, never the library.
    /// - Parameters:
    ///   - catalog: The application's catalog.
    ///   - commands: The application's own subcommands, beside Runnel's.
    ///   - kafka: Kafka for the Kafka options, from RunnelKafka; nil refuses them with a hint.
    public static func main(catalog: Catalog, commands: [any ParsableCommand.Type] = [], kafka: (any KafkaConnector)? = nil) async -> Never {
        CLILogging.bootstrap()
        let program = CommandLine.arguments.first.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "runnel"
        let status = await run(Array(CommandLine.arguments.dropFirst()), catalog: catalog, console: .standard,
                               programName: program, commands: commands, kafka: kafka)
        Foundation.exit(status)
    }

    /// Runs one command line in-process and returns its exit status.
    ///
    /// Errors are printed as one line on the console's error stream, without a stack trace:
    /// usage errors exit 64, other failures 1.
    /// - Parameters:
    ///   - arguments: The arguments, without the program name.
    ///   - catalog: The application's catalog.
    ///   - console: Where output goes.
    ///   - programName: The name usage, help and hints give the program (the executable's).
    ///   - commands: The application's own subcommands, beside Runnel's.
    ///   - kafka: Kafka for the Kafka options, from RunnelKafka; nil refuses them with a hint.
    public static func run(_ arguments: [String], catalog: Catalog, console: Console, programName: String = "runnel",
                           commands: [any ParsableCommand.Type] = [], kafka: (any KafkaConnector)? = nil) async -> Int32 {
        var context = CLIContext(catalog: catalog, console: console)
        context.programName = programName
        context.commands = commands
        context.kafka = kafka
        return await CLIContext.$current.withValue(context) {
            do {
                var command = try parseAsRoot(arguments)
                // Mistakes in the catalog are caught before any command acts on it (help and
                // --version, which parseAsRoot handles by throwing, still work).
                try catalog.validate()
                if var command = command as? AsyncParsableCommand {
                    try await command.run()
                } else {
                    try command.run()
                }
                return 0
            } catch let error as RunnelError {
                console.note("error: \(naming(programName, in: "\(error)"))")
                return 1
            } catch let error as DatabaseError {
                // A last resort: every write site names its database, but a SQLite failure that
                // gets here still says what happened and what to do.
                let failure = RunnelError.database(error, during: "running `runnel \(arguments.joined(separator: " "))`")
                console.note("error: \(naming(programName, in: "\(failure)"))")
                return 1
            } catch {
                // Parser errors come with usage (exit 64), help and `--version` exit 0, anything
                // else is one line (exit 1).
                let code = exitCode(for: error)
                let message = fullMessage(for: error)
                if code == .success {
                    console.print(message)
                } else if !message.isEmpty {
                    console.note(message)
                }
                return code.rawValue
            }
        }
    }

    /// The library's messages name commands as `` `runnel …` ``; an application's executable
    /// is called something else, and its users should be told to type that.
    private static func naming(_ program: String, in text: String) -> String {
        program == "runnel" ? text : text.replacingOccurrences(of: "`runnel ", with: "`\(program) ")
    }
}
