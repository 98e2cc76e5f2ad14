import Foundation
import Hummingbird
import Logging
import NIOCore
import Runnel
import ServiceLifecycle

/// The read-only web dashboard of a Runnel home: status, pipelines and their lag, exceptions and
/// tickets, sagas, KV stores and a browser of the read views, each page with its JSON under
/// `/api/`, and `/metrics` when the caller has metrics (docs/dashboard.md).
///
/// `runnel serve` runs it alone; `runnel up` adds it to its service group:
///
/// ```swift
/// let dashboard = try Dashboard(home: home, catalog: catalog, access: try DashboardAccess(port: 8080), metrics: nil, logger: logger)
/// let app = dashboard.makeApplication { port in print("Dashboard: http://127.0.0.1:\(port)/") }
/// try await ServiceGroup(services: [app, …], gracefulShutdownSignals: [.sigterm], logger: logger).run()
/// ```
package struct Dashboard: Sendable {
    package let access: DashboardAccess
    let databases: DashboardDatabases
    let history: LagHistory
    let renderer: PageRenderer
    let metrics: (@Sendable () -> String)?
    let logger: Logger
    /// How often the pipelines' lag is sampled for their charts.
    let sampleInterval: Duration

    /// Opens the home's databases read-only and parses the page templates.
    /// - Parameters:
    ///   - home: The home to show; it must have its databases (`runnel init` or `demo`).
    ///   - catalog: The application's catalog (pipelines, sagas, tickets settings).
    ///   - access: Where to listen and the bearer token, if any.
    ///   - metrics: The Prometheus text exposition served at `/metrics`, or nil for a 404 there.
    ///   - logger: Where the server and the lag sampler log.
    ///   - sampleInterval: How often the pipelines' lag is read for their charts.
    /// - Throws: ``RunnelError`` `.home` when the home has no databases.
    package init(home: RunnelHome, catalog: Catalog, access: DashboardAccess, metrics: (@Sendable () -> String)?, logger: Logger,
                 sampleInterval: Duration = .seconds(10)) throws {
        self.access = access
        databases = try DashboardDatabases(home: home, catalog: catalog)
        history = LagHistory()
        renderer = try PageRenderer()
        self.metrics = metrics
        self.logger = logger
        self.sampleInterval = sampleInterval
    }

    /// The routes and middleware: errors as pages or JSON, the token, read-only methods, then
    /// the pages. Tests drive it with HummingbirdTesting; ``makeApplication(onServerRunning:)``
    /// serves it.
    package func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorMiddleware(renderer: renderer, logger: logger))
        router.add(middleware: AccessMiddleware(access: access))
        router.add(middleware: ReadOnlyMiddleware())
        DashboardRoutes(databases: databases, history: history, renderer: renderer, metrics: metrics).register(on: router)
        return router
    }

    /// The error to report when the server could not start listening: an address in use or not
    /// available becomes a ``RunnelError`` that says which and what to do; other errors are
    /// returned as they are.
    package func listeningError(_ error: any Error) -> any Error {
        guard let error = error as? IOError else { return error }
        let address = "\(access.host):\(access.port)"
        switch error.errnoCode {
        case EADDRINUSE:
            return RunnelError(.invalidArgument, "the dashboard cannot listen on \(address): another process listens there",
                               hint: "Stop it, or give another --port (0 picks a free one)")
        case EADDRNOTAVAIL:
            return RunnelError(.invalidArgument, "the dashboard cannot listen on \(address): this machine has no such address",
                               hint: "Give one of this machine's addresses with --host, or 127.0.0.1")
        case EACCES:
            return RunnelError(.invalidArgument, "the dashboard may not listen on \(address): ports below 1024 need privileges",
                               hint: "Give a port from 1024 up with --port, and put a reverse proxy in front (docs/dashboard.md)")
        default:
            return RunnelError(.invalidArgument, "the dashboard cannot listen on \(address): \(error)",
                               hint: "Check --host and --port")
        }
    }

    /// The lag sampler, a service that runs beside the server (part of ``makeApplication(onServerRunning:)``).
    var sampler: LagSampler {
        LagSampler(databases: databases, history: history, interval: sampleInterval, logger: logger)
    }

    /// The HTTP server with the lag sampler, as one `Service` that stops on graceful shutdown.
    /// - Parameter onServerRunning: Called once the server listens, with its port (the one
    ///   picked when ``DashboardAccess/port`` is 0).
    package func makeApplication(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> Application<RouterResponder<BasicRequestContext>> {
        Application(
            router: makeRouter(),
            configuration: ApplicationConfiguration(address: .hostname(access.host, port: access.port), serverName: nil),
            services: [sampler],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? access.port) },
            logger: logger)
    }
}
