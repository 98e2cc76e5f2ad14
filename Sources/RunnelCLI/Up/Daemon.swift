import Foundation
import Logging
import Runnel
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
        return services.map { name, service in
            // A supervised service never ends the group by failing; it returns only at shutdown.
            .init(service: SupervisedService(name, service, backoff: backoff, board: board, logger: logger),
                  successTerminationBehavior: .ignore, failureTerminationBehavior: .gracefullyShutdownGroup)
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
        return parts.isEmpty ? "nothing to run" : parts.joined(separator: ", ")
    }
}
