import ArgumentParser
import Foundation
import Runnel

/// What a command runs against: the application's catalog, its own subcommands and where its
/// output goes.
///
/// Commands are swift-argument-parser types, created by the parser, so they read their context
/// from a task-local set by ``RunnelCommand/run(_:catalog:console:)``: that is what lets the same
/// commands run in-process in tests and with any application's catalog.
public struct CLIContext: Sendable {
    /// The application's migrations, sample data and (later) pipelines.
    public var catalog: Catalog
    /// Where output goes.
    public var console: Console
    /// The program's name as help, usage and hints spell it: the executable's (`shopctl`),
    /// `runnel` for the sample's.
    public var programName = "runnel"
    /// The application's own subcommands, listed after Runnel's.
    public var commands: [any ParsableCommand.Type] = []
    /// Kafka, when the executable links it (RunnelKafka's `LibrdkafkaConnector`): what
    /// `relay --to kafka`, `log mirror` and `run --from kafka` use.
    public var kafka: (any KafkaConnector)?

    /// The context of the command line that is running: an application's own subcommands read
    /// the catalog and write through the console from here, so they run in-process in tests.
    @TaskLocal public static var current = CLIContext(catalog: Catalog(name: "empty"), console: .standard)
}

/// Where a command writes: standard output for results, standard error for progress and errors.
public struct Console: Sendable {
    private let writeOutput: @Sendable (String) -> Void
    private let writeError: @Sendable (String) -> Void

    /// Whether the error stream is a terminal, where progress redraws one line in place.
    public let isInteractive: Bool

    /// Creates a console from two writers; each receives whole lines, newline included.
    public init(output: @escaping @Sendable (String) -> Void, error: @escaping @Sendable (String) -> Void, isInteractive: Bool = false) {
        writeOutput = output
        writeError = error
        self.isInteractive = isInteractive
    }

    /// The process's standard output and standard error.
    public static let standard = Console(
        output: { text in FileHandle.standardOutput.write(Data(text.utf8)) },
        error: { text in FileHandle.standardError.write(Data(text.utf8)) },
        isInteractive: isatty(STDERR_FILENO) == 1)

    /// Redraws the progress line on a terminal (carriage return, text, clear to end of line);
    /// `done` ends it with a newline.
    public func redraw(_ line: String, done: Bool = false) {
        writeError("\r" + line + "\u{1B}[K" + (done ? "\n" : ""))
    }

    /// Writes a line of results.
    public func print(_ line: String = "") {
        writeOutput(line + "\n")
    }

    /// Writes a line of progress or diagnostics to the error stream.
    public func note(_ line: String) {
        writeError(line + "\n")
    }
}
