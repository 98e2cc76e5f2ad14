import ArgumentParser
import Foundation
import Logging
import Runnel
import RunnelServer
import ServiceLifecycle

/// `runnel serve [--host 127.0.0.1] [--port 8080] [--token T]`: the read-only web dashboard.
struct ServeCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        let program = CLIContext.current.programName
        return CommandConfiguration(
            commandName: "serve",
            abstract: "Serve the read-only web dashboard of the home (status, pipelines, exceptions, sagas, KV stores, read views).",
            discussion: """
                Pages: / the same facts as `\(program) status`, problems highlighted; /pipelines each pipeline's \
                state and lag, with a chart of its lag over the last hour (sampled every 10 s while the dashboard \
                runs); /exceptions exceptions per service per hour (?hours=1…168), exception types by level and \
                the open tickets, /exceptions/tickets/ID one ticket with its sample stack trace; /tickets \
                (?state=open|resolved|all); /sagas instances by state (?saga=, ?state=, ?limit=, ?page=), \
                /sagas/ID an instance's timeline; /kv each KV store's version, keys, size, age and kept versions; \
                /views the read views in derived.sqlite, /views/NAME a page of one (?page=, ?limit=); /reports/… the \
                files of reports/ (hourly exception reports). Each page's \
                JSON is under /api (/api/status is `\(program) status --format json`). Read-only: GET and HEAD \
                only, nothing is locked or written. Pages are self-contained (inline CSS and SVG, no script, no \
                external file), so they work offline. Binds 127.0.0.1 by default; any other address needs a \
                bearer token (--token or $\(DashboardAccess.tokenVariable)) that every request must send as \
                `Authorization: Bearer TOKEN`. Prints `Dashboard: http://HOST:PORT/` once listening (the port \
                picked with --port 0) and runs until SIGINT or SIGTERM. See docs/dashboard.md.
                """)
    }

    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on; 0 picks a free one.") var port = 8080
    @Option(help: ArgumentHelp("The bearer token requests must send (default: $\(DashboardAccess.tokenVariable)).", valueName: "token"))
    var token: String?
    @OptionGroup var home: HomeOptions

    func run() async throws {
        let context = CLIContext.current
        let home = home.resolved
        let environmentToken = ProcessInfo.processInfo.environment[DashboardAccess.tokenVariable].flatMap { $0.isEmpty ? nil : $0 }
        let access = try DashboardAccess(host: host, port: port, token: token ?? environmentToken)
        guard home.isInitialized else {
            throw RunnelError(.home, "no Runnel home at \(home.url.path)",
                              hint: "Run `\(context.programName) demo` or `\(context.programName) init` first, or point --home / RUNNEL_HOME at an existing home")
        }
        let logger = Logger(label: "runnel.serve")
        // No runner runs here: /metrics serves the lag gauges, set from the home's status at each scrape.
        var metricsText: (@Sendable () -> String)?
        if let metrics = PrometheusMetrics.bootstrapUnlessTaken() {
            let gauges = StatusGauges(reader: try StatusReader(home: home, catalog: context.catalog), logger: logger)
            metricsText = {
                gauges.update()
                return metrics.expositionText
            }
        }
        let dashboard = try Dashboard(home: home, catalog: context.catalog, access: access, metrics: metricsText, logger: logger)
        let console = context.console
        let shownHost = access.host.contains(":") && !access.host.hasPrefix("[") ? "[\(access.host)]" : access.host
        let app = dashboard.makeApplication { port in
            console.print("Dashboard: http://\(shownHost):\(port)/")
        }
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            throw dashboard.listeningError(error)
        }
    }
}
