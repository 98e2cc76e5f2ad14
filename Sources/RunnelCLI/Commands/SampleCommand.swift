import ArgumentParser
import Foundation
import Runnel

/// `runnel sample load|generate`.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Load or generate the catalog's sample data.",
        subcommands: [SampleLoad.self, SampleGenerate.self])

    static func dataset(_ catalog: Catalog) throws -> any SampleDataSet {
        guard let dataset = catalog.sampleData else {
            throw RunnelError(.sampleData, "the catalog \(catalog.name) has no sample data set")
        }
        return dataset
    }
}

struct SampleLoad: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "load",
            abstract: "Play a sample data file through the business operations (filling the outbox).",
            discussion: """
                Lines are applied in batches, each batch in one transaction with the load's progress, so \
                an interrupted load resumes where it stopped and loading the same file again does nothing. \
                The file must be UTF-8. After a bad line, correct it and run the same command again: \
                a file whose already loaded lines are unchanged goes on after them. \
                Run `\(CLIContext.current.programName) migrate` first.
                """)
    }

    @Option(help: ArgumentHelp("The data set file (default: the catalog's small data set, built into the program).", valueName: "file"))
    var file: String?
    @OptionGroup var home: HomeOptions

    func run() throws {
        let context = CLIContext.current
        let dataset = try SampleCommand.dataset(context.catalog)
        let url = file.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
        let store = try Store.open(home.resolved)
        try Self.load(url, dataset: dataset, into: store, console: context.console, hint: home.hintFlag)
    }

    /// Loads a file, or the data set's built-in lines when `url` is nil, and says what
    /// happened; shared with `demo`.
    static func load(_ url: URL?, dataset: any SampleDataSet, into store: Store, console: Console, hint: String) throws {
        let tables = try store.app.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'runnel_%' AND name NOT LIKE 'grdb_%' AND name NOT LIKE 'sqlite_%'") ?? 0 }
        guard tables > 0 else {
            throw RunnelError(.sampleData, "app.sqlite in \(store.home.url.path) has no business tables yet",
                              hint: "Run `runnel migrate\(hint)` first")
        }
        let loader = SampleLoader(dataset: dataset)
        let summary = try url.map { try loader.load($0, into: store) } ?? loader.loadDefault(into: store)
        let source = url?.lastPathComponent ?? "the built-in \(dataset.name) data set"
        if summary.wasAlreadyLoaded {
            console.print("Sample data from \(source) is already loaded (\(summary.totalLines) operations, \(summary.totalEvents) events); nothing to do.")
        } else {
            console.print("Loaded \(summary.appliedLines) operations from \(source): \(summary.appendedEvents) events appended to the outbox.")
        }
    }
}

struct SampleGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a larger deterministic data set (same parameters, same bytes).")

    @Option(help: "Number of members.") var members: Int?
    @Option(help: "Simulated hours.") var hours: Int?
    @Option(help: "Random seed.") var seed: UInt64?
    @Option(help: ArgumentHelp("Where to write (default: sample-data/generated/network-m<members>-h<hours>-s<seed>.jsonl).", valueName: "file"))
    var output: String?

    func validate() throws {
        if let members, members < 2 { throw ValidationError("--members must be at least 2") }
        if let hours, hours < 1 { throw ValidationError("--hours must be at least 1") }
    }

    func run() throws {
        let context = CLIContext.current
        let dataset = try SampleCommand.dataset(context.catalog)
        var parameters = dataset.defaultParameters
        parameters.members = members ?? parameters.members
        parameters.hours = hours ?? parameters.hours
        parameters.seed = seed ?? parameters.seed
        let path = output ?? "sample-data/generated/\(dataset.name)-m\(parameters.members)-h\(parameters.hours)-s\(parameters.seed).jsonl"
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        let lines = try dataset.generate(parameters, to: url)
        context.console.print("Wrote \(lines) operations to \(url.path).")
        context.console.print("Load them with: \(context.programName) sample load --file \(path) --home DIR")
    }
}
