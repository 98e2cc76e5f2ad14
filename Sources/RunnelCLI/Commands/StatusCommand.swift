import ArgumentParser
import Foundation
import GRDB
import Runnel

/// `runnel status [--format table|json] [--check]`: one screen of everything an operator looks at.
struct StatusCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        let program = CLIContext.current.programName
        return CommandConfiguration(
            commandName: "status",
            abstract: "One screen: outbox backlogs, topics, pipelines, handlers, sagas, KV stores, schedules, tickets and problems.",
            discussion: """
                Read from the home without locking or writing anything, so it runs beside everything else. \
                Per outbox, the rows waiting for the relay and how long the oldest has waited; per topic, \
                records, bytes and end offsets; per pipeline, handler and saga coordinator, whether a process \
                runs it now (its pid), the records waiting for it (lag) and how far behind in event time, its \
                watermark, last commit, dead letters and late events; saga instances by state, and those past \
                their deadline; each KV store's current version and age; each schedule's next fire time and \
                last outcome; open tickets and those opened this hour; the last `\(program) log verify` and \
                `\(program) kv verify`. --format json prints it as one object (described in docs/operations.md). \
                --check prints only the problems, one line each (with --format json, the whole object, whose problems list them), and exits 1 when there is any: an outbox \
                row older than --max-backlog-age, lag over --max-lag-events or --max-lag, a pipeline needing a \
                rebuild, failed saga instances or ones past their deadline, a failed last schedule run, an \
                unreadable KV store, damage found by the last verify. Meant for cron and monitors.
                """)
    }

    @Flag(help: "Print only the problems, one per line; exit 1 when there is any.") var check = false
    @Option(help: ArgumentHelp("--check: an outbox row waiting longer than this is a problem (default 60).", valueName: "seconds"))
    var maxBacklogAge: Double = 60
    @Option(help: "--check: more records than this waiting for a pipeline, handler or coordinator is a problem.")
    var maxLagEvents: Int64 = 10_000
    @Option(help: ArgumentHelp("--check: being further behind than this in event time is a problem (default 900).", valueName: "seconds"))
    var maxLag: Double = 900
    @OptionGroup var home: HomeOptions
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table

    func validate() throws {
        guard format != .csv else { throw ValidationError("--format takes table or json: the status is not one table") }
        guard maxBacklogAge > 0, maxLag > 0, maxLagEvents >= 0 else {
            throw ValidationError("--max-backlog-age and --max-lag must be positive, --max-lag-events at least 0")
        }
    }

    var rules: StatusCheck {
        var rules = StatusCheck()
        rules.maximumBacklogAge = .milliseconds(Int64(maxBacklogAge * 1000))
        rules.maximumLag = .milliseconds(Int64(maxLag * 1000))
        rules.maximumLagEvents = maxLagEvents
        return rules
    }

    func run() throws {
        let context = CLIContext.current
        let home = home.resolved
        guard home.isInitialized else {
            throw RunnelError(.home, "no Runnel home at \(home.url.path)", hint: "Run `runnel demo` or `runnel init` first, or point --home / RUNNEL_HOME at an existing home")
        }
        let status = try StatusReader(home: home, catalog: context.catalog).read(check: rules)
        switch (format, check) {
        case (.json, _): context.console.print(String(decoding: status.json(), as: UTF8.self))
        case (_, true): status.problems.forEach { context.console.print($0.description) }
        default: StatusScreen(status: status, console: context.console).print()
        }
        if check, !status.problems.isEmpty { throw ExitCode(1) }
    }
}
