import ArgumentParser
import Foundation
import Logging
import Runnel
import RunnelServer
import ServiceLifecycle

/// `runnel up`: the relay, every pipeline, handler and saga coordinator in follow mode, the
/// scheduler, the ticket notifier and the dashboard, as one supervised process.
struct UpCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        let program = CLIContext.current.programName
        return CommandConfiguration(
            commandName: "up",
            abstract: "Run everything in one supervised process: relay, pipelines, handlers, sagas, scheduler, notifier, dashboard.",
            discussion: """
                Each part is a service of one process: the relay (outbox → log), every pipeline, handler and \
                saga coordinator of the catalog following the log, the scheduler, the ticket notifier (when the \
                catalog keeps tickets) and the dashboard with /metrics (`\(program) serve`). A service that fails \
                is logged and restarted after a backoff (--restart-delay, 1 s, doubling up to --max-restart-delay, 60 s), while the \
                others go on; a failure that repeats (a batch a pipeline cannot process) is retried at that delay \
                and shows in the logs, `\(program) status` and the dashboard, its committed work kept. SIGTERM or \
                SIGINT stops every service between batches (a second or two), each committing the batch in hand, \
                lets a scheduled job in hand finish and record its outcome, and exits 0. Every \
                pipeline, handler and saga is locked before anything starts: a home another process already runs \
                one of is refused whole (exit 1). --only runs a subset: relay, pipelines, handlers, sagas, \
                scheduler, notify, dashboard (comma-separated). Logs go to standard error, one line per event, \
                at info unless RUNNEL_LOG_LEVEL says otherwise; --log-format json writes each as a JSON object. \
                A systemd unit is in docs/operations.md.
                """)
    }

    /// A part of the daemon, as `--only` names it.
    enum Part: String, CaseIterable, Sendable {
        case relay, pipelines, handlers, sagas, scheduler, notify, dashboard
    }

    @Option(help: ArgumentHelp("Run only these parts, comma-separated: relay, pipelines, handlers, sagas, scheduler, notify, dashboard.", valueName: "parts"))
    var only: String?
    @Option(help: "The dashboard's address; another than a loopback address needs --token.") var host = "127.0.0.1"
    @Option(help: "The dashboard's port (0 picks a free one).") var port = 8080
    @Option(help: ArgumentHelp("The bearer token the dashboard requires (default: $RUNNEL_DASHBOARD_TOKEN).", valueName: "token"))
    var token: String?
    @Option(help: "How log lines are written: text or json.") var logFormat: LogFormat?
    @Option(help: ArgumentHelp("The notifier POSTs each ticket notification here too (default: $RUNNEL_TICKETS_WEBHOOK).", valueName: "url"))
    var webhook: String?
    @Option(help: "Partitions of topics the relay creates on first use.") var partitions = 1
    @Option(help: ArgumentHelp("The first wait before restarting a failed service, in seconds; it doubles with each failure in a row.", valueName: "seconds"))
    var restartDelay: Double = 1
    @Option(help: ArgumentHelp("The longest wait before restarting a failed service, in seconds.", valueName: "seconds"))
    var maxRestartDelay: Double = 60
    @OptionGroup var home: HomeOptions

    func validate() throws {
        _ = try parts()
        guard (1...1024).contains(partitions) else { throw ValidationError("--partitions must be 1 to 1024") }
        guard restartDelay >= 0.01, maxRestartDelay >= restartDelay else {
            throw ValidationError("--restart-delay must be at least 0.01 seconds, and --max-restart-delay at least --restart-delay")
        }
        if let url = webhookURL {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
                throw ValidationError("--webhook \(url) is not an http:// or https:// URL")
            }
        }
    }

    /// The parts `--only` names, or all.
    func parts() throws -> Set<Part> {
        guard let only else { return Set(Part.allCases) }
        var parts = Set<Part>()
        for name in only.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let part = Part(rawValue: name) else {
                throw ValidationError("--only takes \(Part.allCases.map(\.rawValue).joined(separator: ", ")), not \(name)")
            }
            parts.insert(part)
        }
        guard !parts.isEmpty else { throw ValidationError("--only names no part") }
        return parts
    }

    private var webhookURL: String? {
        webhook ?? ProcessInfo.processInfo.environment["RUNNEL_TICKETS_WEBHOOK"].flatMap { $0.isEmpty ? nil : $0 }
    }

    func run() async throws {
        CLILogging.use(format: logFormat, defaultLevel: .info)
        // Before any runner exists: metrics made earlier would stay no-ops.
        let metrics = PrometheusMetrics.bootstrapUnlessTaken()
        let context = CLIContext.current
        let logger = Logger(label: "runnel.up")
        // Under --log-format json, what the command would print to standard error is logged
        // instead, so every line of the stream is an object.
        let console = CLILogging.settings.format == .json ? Console.logging(to: logger) : context.console
        // Checked before anything is locked: a non-loopback address without a token is refused.
        let environmentToken = ProcessInfo.processInfo.environment[DashboardAccess.tokenVariable].flatMap { $0.isEmpty ? nil : $0 }
        let access = try parts().contains(.dashboard) ? try DashboardAccess(host: host, port: port, token: token ?? environmentToken) : nil
        let store = try Store.open(home.resolved)
        var daemon = try Daemon(store: store, catalog: context.catalog, parts: try parts(), console: console, logger: logger)
        daemon.backoff = SupervisedService.Backoff(initial: .milliseconds(Int64(restartDelay * 1000)), maximum: .milliseconds(Int64(maxRestartDelay * 1000)))
        daemon.partitions = partitions
        daemon.webhook = webhookURL.flatMap(URL.init(string:))
        daemon.metrics = metrics
        daemon.access = access
        let output = context.console
        daemon.announce = { line in output.print(line) }
        let services = try daemon.services()
        guard !services.isEmpty else {
            throw RunnelError(.invalidArgument, "nothing to run: the \(context.catalog.name) catalog has none of \(only ?? "the parts")",
                              hint: "Name parts the catalog has (`\(context.programName) pipelines`, `\(context.programName) schedule list`), or leave out --only")
        }
        console.note("runnel up: \(daemon.summary) — until SIGTERM (Ctrl-C).")
        // No time limit on the stop: each service ends between batches, and a scheduled job in
        // hand is let finish and record its outcome. Escalating to cancellation would leave that
        // run recorded as running (to be retried as abandoned) and swift-service-lifecycle ends
        // a cancellation that runs long with a crash. A supervisor's own limit
        // (systemd's TimeoutStopSec) is the hard stop.
        let configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await ServiceGroup(configuration: configuration).run()
        logger.info("runnel up stopped")
    }
}
