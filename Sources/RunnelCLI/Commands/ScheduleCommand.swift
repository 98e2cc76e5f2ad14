import ArgumentParser
import Foundation
import GRDB
import Logging
import Runnel
import ServiceLifecycle

/// `runnel schedule …`: the catalog's cron-style entries, their next fire times and history.
struct ScheduleCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "schedule",
            abstract: "List, run and look back on the catalog's cron-style schedules.",
            discussion: """
                Each fire time of an entry runs once, however many schedulers share the home: the run \
                is claimed by a row in app.sqlite (runnel_schedule_runs) and held by a lease its process \
                renews. Missed fire times are handled by the entry's policy and every one gets a \
                history row. Syntax, time zones and policies are in docs/schedules.md.
                """,
            subcommands: [List.self, Next.self, Run.self, Tick.self, History.self])
    }

    /// `--lease SECONDS` and `--keep-history DAYS`, shared by the commands that run jobs.
    struct LeaseOptions: ParsableArguments {
        @Option(help: "How long a claim holds without renewal, in seconds; a dead scheduler's run is found abandoned after this (default 30).")
        var lease: Double = 30
        @Option(help: "Keep history rows this many days (by fire time; default 30).") var keepHistory: Int = 30

        func validate() throws {
            guard lease >= 0.05 else { throw ValidationError("--lease must be at least 0.05 seconds") }
            guard keepHistory >= 1 else { throw ValidationError("--keep-history must be at least 1 day") }
        }

        var options: Scheduler.Options {
            Scheduler.Options(lease: .milliseconds(Int64(lease * 1000)), historyRetention: .days(Int64(keepHistory)))
        }
    }

    static func parseTime(_ text: String, option: String) throws -> Date {
        guard let date = LogTail.parseTime(text) else {
            throw ValidationError("\(option) \(text) is not an ISO 8601 time such as 2026-03-29T01:30:00Z or 2026-03-29T03:30:00+02:00")
        }
        return date
    }


    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The entries: expression, zone, policies, job, next three fire times and last outcome.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var format: FormatOptions

        func run() throws {
            let context = CLIContext.current
            try Self.print(context.catalog, store: try Store.open(home.resolved), format: format.format, console: context.console)
        }

        /// Prints the entries; shared with `demo`.
        static func print(_ catalog: Catalog, store: Store, format: OutputFormat, console: Console) throws {
            let schedules = catalog.schedules
            let history = try Scheduler.history(of: store, limit: 10_000)
            let now = Date()
            let rows: [[DatabaseValue]] = try schedules.map { schedule in
                let zone = try schedule.timeZone()
                let next = Array(try schedule.expression().fireTimes(after: now, in: zone).prefix(3)).map { $0.iso8601(in: zone) }
                let last = history.first { $0.entry == schedule.name && $0.outcome != .queued }
                let lastText = last.map { "\($0.outcome.rawValue) \($0.fireTime.iso8601(in: zone))" } ?? "never run"
                return [schedule.name, schedule.cron, schedule.timeZoneIdentifier, schedule.job.summary, schedule.policyDescription,
                        next.joined(separator: " "), lastText].map(\.databaseValue)
            }
            if schedules.isEmpty, format == .table {
                console.print("The \(catalog.name) catalog has no schedules.")
                return
            }
            var printer = RowPrinter(format: format, console: console)
            printer.maximumCellWidth = 90   // three fire times with their offsets
            printer.print(columns: ["entry", "expression", "zone", "job", "policy", "next", "last"], rows: rows)
        }
    }

    struct Next: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The next fire times of any cron expression.",
            discussion: "Five fields (minute hour day-of-month month day-of-week) or a macro such as @hourly. JSON lines: {\"at\": \"2026-03-29T03:00:00+02:00\", \"epoch_ms\": …}.")

        @Argument(help: "The expression, quoted: \"*/15 9-17 * * mon-fri\".") var expression: String
        @Option(help: "The IANA time zone to read it in (default UTC).") var timeZone = "UTC"
        @Option(help: "Start after this ISO 8601 time (default now).") var from: String?
        @Option(help: "How many fire times.") var count = 5
        @OptionGroup var format: FormatOptions

        func validate() throws {
            guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        }

        func run() throws {
            let console = CLIContext.current.console
            guard let zone = TimeZone(identifier: timeZone) else {
                throw RunnelError(.schedule, "\(timeZone) is not a time zone", hint: "Use an IANA identifier such as UTC, Europe/Berlin or America/New_York")
            }
            let start = try from.map { try ScheduleCommand.parseTime($0, option: "--from") } ?? Date()
            let times = Array(try CronExpression(expression).fireTimes(after: start, in: zone).prefix(count))
            switch format.format {
            case .json:
                for time in times {
                    console.print("{\"at\":\"\(time.iso8601(in: zone))\",\"epoch_ms\":\(time.millisecondsSince1970)}")
                }
            case .csv, .table:
                RowPrinter(format: format.format, console: console)
                    .print(columns: ["at", "epoch_ms"], rows: times.map { [$0.iso8601(in: zone).databaseValue, $0.millisecondsSince1970.databaseValue] })
            }
            if times.isEmpty { console.note("\(expression) never fires after \(start.iso8601(in: zone)).") }
        }
    }

    struct Run: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: "Run due entries until SIGTERM: sleep to the next fire time, claim it, run its job.",
                discussion: """
                    On SIGTERM or SIGINT it stops claiming and lets the jobs in hand finish and record their \
                    outcome. Several `\(CLIContext.current.programName) schedule run` on one home share the work: \
                    each fire time runs once.
                    """)
        }

        @OptionGroup var lease: LeaseOptions
        @OptionGroup var home: HomeOptions

        func run() async throws {
            let context = CLIContext.current
            let store = try Store.open(home.resolved)
            let logger = Logger(label: "runnel.schedule")
            let scheduler = try Scheduler(store: store, catalog: context.catalog, options: lease.options, logger: logger)
            context.console.note("Scheduling \(context.catalog.schedules.count) entr\(context.catalog.schedules.count == 1 ? "y" : "ies") until SIGTERM (Ctrl-C).")
            let group = ServiceGroup(configuration: .init(services: [SchedulerService(scheduler: scheduler, logger: logger)],
                                                          gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }

    struct Tick: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run what is due at an instant, to the end, and print the runs (for tests and backfills).",
            discussion: """
                The instant decides what is due (and what counts as missed); leases use the system's time. \
                With --until, ticks again at each next fire time up to that instant: a backfill.
                """)

        @Option(help: "The instant, ISO 8601 (default now).") var at: String?
        @Option(help: "Tick each next fire time up to this ISO 8601 instant too.") var until: String?
        @OptionGroup var lease: LeaseOptions
        @OptionGroup var home: HomeOptions
        @OptionGroup var format: FormatOptions

        func run() async throws {
            let context = CLIContext.current
            let store = try Store.open(home.resolved)
            let scheduler = try Scheduler(store: store, catalog: context.catalog, options: lease.options)
            var instant = try at.map { try ScheduleCommand.parseTime($0, option: "--at") } ?? Date()
            let end = try until.map { try ScheduleCommand.parseTime($0, option: "--until") } ?? instant
            // A tick of an instant still to come would record fire times that have not come
            // yet, and a real scheduler would then pass them over.
            if end.timeIntervalSinceNow > 60 {
                throw RunnelError(.invalidArgument, "\(until == nil ? "--at" : "--until") \(end.iso8601()) is in the future",
                                  hint: "Tick instants up to now; `\(context.programName) schedule run` runs fire times as they come")
            }
            var runs: [ScheduleRunRecord] = []
            while instant <= end {
                runs += try await scheduler.tick(at: instant)
                guard let next = scheduler.nextWake(after: instant) else { break }
                instant = next
            }
            ScheduleCommand.printRuns(runs, format: format.format, console: context.console)
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One row per fire time: outcome, attempts, start, end, duration, host, pid, reason.")

        @Argument(help: "One entry's history (default every entry's).") var entry: String?
        @Option(help: "The most rows, newest first.") var limit = 50
        @OptionGroup var home: HomeOptions
        @OptionGroup var format: FormatOptions

        func run() throws {
            let context = CLIContext.current
            if let entry, !context.catalog.schedules.contains(where: { $0.name == entry }) {
                throw RunnelError(.notFound, "no schedule named \(entry) in the \(context.catalog.name) catalog",
                                  hint: context.catalog.schedules.isEmpty ? "The catalog has no schedules" : "Choose one of: \(context.catalog.schedules.map(\.name).joined(separator: ", "))")
            }
            let store = try Store.open(home.resolved)
            ScheduleCommand.printRuns(try Scheduler.history(of: store, entry: entry, limit: limit), format: format.format, console: context.console)
        }
    }

    /// History rows as a table (times in ISO 8601) or JSON lines (milliseconds).
    static func printRuns(_ runs: [ScheduleRunRecord], format: OutputFormat, console: Console) {
        let columns = ["entry", "fire_time", "outcome", "attempts", "started_at", "finished_at", "duration_ms", "host", "pid", "reason"]
        let rows: [[DatabaseValue]] = runs.map { run in
            [run.entry.databaseValue, run.fireTime.millisecondsSince1970.databaseValue, run.outcome.rawValue.databaseValue, run.attempts.databaseValue,
             run.startedAt?.millisecondsSince1970.databaseValue ?? .null, run.finishedAt?.millisecondsSince1970.databaseValue ?? .null,
             run.duration?.wholeMilliseconds.databaseValue ?? .null,
             run.host?.databaseValue ?? .null, run.pid?.databaseValue ?? .null, run.reason?.databaseValue ?? .null]
        }
        RowPrinter(format: format, console: console).print(columns: columns, rows: rows)
    }
}
