import Foundation
import Logging
import Runnel
import RunnelServer
import ServiceLifecycle

/// What `runnel up` runs: one supervised service per part, built after every runner's lock is
/// taken, so a home another process runs a part of is refused before anything starts.
struct Daemon {
    let store: Store
    let catalog: Catalog
    let parts: Set<UpCommand.Part>
    let console: Console
    let logger: Logger
    let board = ServiceBoard()
    var backoff = SupervisedService.Backoff()
    var partitions = 1
    var webhook: URL?
    /// The registry `/metrics` serves; nil when the process has no metrics backend.
    var metrics: PrometheusMetrics?
    /// Where the dashboard listens, and its token.
    var access: DashboardAccess?
    /// Where the dashboard's address is printed once it listens (standard output).
    var announce: @Sendable (String) -> Void = { _ in }
    private var pipelineLocks: [RunnerLock] = []
    private var handlerLocks: [RunnerLock] = []
    private var sagaLocks: [RunnerLock] = []

    /// Takes the locks of every pipeline, handler and saga the parts include.
    init(store: Store, catalog: Catalog, parts: Set<UpCommand.Part>, console: Console, logger: Logger) throws {
        self.store = store
        self.catalog = catalog
        self.parts = parts
        self.console = console
        self.logger = logger
        // The log has one writer; a relay in another process would have this one retry forever.
        if parts.contains(.relay), let holder = RunnerLock.holder(of: store.home.logURL.appendingPathComponent(Log.lockName)), holder != getpid() {
            throw RunnelError(.logLocked, "the log at \(store.home.logURL.path) is already written by another process (pid \(holder)), a relay",
                              hint: "Stop it (`kill \(holder)`) and run `runnel up` again, or leave the relay to it with `runnel up --only pipelines,handlers,sagas,scheduler,notify,dashboard`")
        }
        // Nor may another process relay the outbox elsewhere (`relay --to kafka`).
        if parts.contains(.relay), let holder = RunnerLock.holder(of: RunnerLock.url(.relay, named: "outbox", in: store.home)), holder != getpid() {
            throw RunnelError(.concurrentRunner, "the outboxes of \(store.home.url.path) are already relayed by another process (pid \(holder))",
                              hint: "Stop it (`kill \(holder)`) and run `runnel up` again, or leave the relay to it with `runnel up --only pipelines,handlers,sagas,scheduler,notify,dashboard`")
        }
        if parts.contains(.pipelines) {
            pipelineLocks = try catalog.pipelines.map { try RunnerLock.acquire(.pipeline, named: $0.name, in: store.home) }
        }
        if parts.contains(.handlers) {
            handlerLocks = try catalog.handlers.map { try RunnerLock.acquire(.handler, named: $0.name, in: store.home) }
        }
        if parts.contains(.sagas) {
            sagaLocks = try catalog.sagas.map { try RunnerLock.acquire(.saga, named: $0.name, in: store.home) }
        }
    }

    /// Every service, supervised. The parts' order is the order they start in.
    func services() throws -> [ServiceGroupConfiguration.ServiceConfiguration] {
        var services: [(String, any Service)] = []
        if parts.contains(.relay) {
            services.append(("relay", RelayFollower(store: store, partitions: partitions, console: console, logger: Logger(label: "runnel.relay"))))
        }
        for (pipeline, lock) in zip(catalog.pipelines, pipelineLocks) {
            services.append(("pipeline \(pipeline.name)",
                             PipelineService(pipeline: pipeline, store: store, options: .init(), holding: lock, logger: Logger(label: "runnel.pipeline"))))
        }
        for (handler, lock) in zip(catalog.handlers, handlerLocks) {
            services.append(("handler \(handler.name)", HandlerService(handler: handler, store: store, logger: Logger(label: "runnel.handler"), holding: lock)))
        }
        for (saga, lock) in zip(catalog.sagas, sagaLocks) {
            services.append(("saga \(saga.name)", SagaService(saga: saga, store: store, logger: Logger(label: "runnel.saga"), holding: lock)))
        }
        if parts.contains(.scheduler), !catalog.schedules.isEmpty {
            let scheduler = try Scheduler(store: store, catalog: catalog, logger: Logger(label: "runnel.schedule"))
            services.append(("scheduler", SchedulerService(scheduler: scheduler, logger: Logger(label: "runnel.schedule"))))
        }
        if parts.contains(.notify), let tickets = catalog.tickets {
            let notifier = try TicketNotifier(tickets: tickets, store: store, options: TicketNotifier.Options(webhook: webhook),
                                              logger: Logger(label: "runnel.tickets.notify"))
            services.append(("notifier", TicketNotifierService(notifier: notifier, logger: Logger(label: "runnel.tickets.notify"))))
        }
        if parts.contains(.dashboard), let access {
            let dashboard = try Dashboard(home: store.home, catalog: catalog, access: access, metrics: try metricsText(),
                                          logger: Logger(label: "runnel.dashboard"))
            let host = access.host.contains(":") && !access.host.hasPrefix("[") ? "[\(access.host)]" : access.host
            let announce = announce
            services.append(("dashboard", DashboardService(application: dashboard.makeApplication { port in announce("Dashboard: http://\(host):\(port)/") },
                                                           dashboard: dashboard)))
        }
        return services.map { name, service in
            // A supervised service never ends the group by failing; it returns only at shutdown.
            .init(service: SupervisedService(name, service, backoff: backoff, board: board, logger: logger),
                  successTerminationBehavior: .ignore, failureTerminationBehavior: .gracefullyShutdownGroup)
        }
    }

    /// What `/metrics` serves: the registry, with the lag gauges set from the home's status
    /// first (see ``StatusGauges``); nil without a metrics backend.
    private func metricsText() throws -> (@Sendable () -> String)? {
        guard let metrics else { return nil }
        let gauges = StatusGauges(reader: StatusReader(home: store.home, catalog: catalog, app: store.app, derived: store.derived),
                                  logger: Logger(label: "runnel.metrics"))
        return {
            gauges.update()
            return metrics.expositionText
        }
    }

    /// `relay, 7 pipelines, 6 handlers, 2 sagas, scheduler (3 entries), notifier`.
    var summary: String {
        var parts: [String] = []
        if self.parts.contains(.relay) { parts.append("relay") }
        if !pipelineLocks.isEmpty { parts.append(RunCommand.counted(pipelineLocks.count, "pipeline")) }
        if !handlerLocks.isEmpty { parts.append(RunCommand.counted(handlerLocks.count, "handler")) }
        if !sagaLocks.isEmpty { parts.append(RunCommand.counted(sagaLocks.count, "saga")) }
        if self.parts.contains(.scheduler), !catalog.schedules.isEmpty {
            parts.append("scheduler (\(RunCommand.counted(catalog.schedules.count, "entry", "entries")))")
        }
        if self.parts.contains(.notify), catalog.tickets != nil { parts.append("notifier") }
        if self.parts.contains(.dashboard), access != nil { parts.append("dashboard") }
        return parts.isEmpty ? "nothing to run" : parts.joined(separator: ", ")
    }
}
