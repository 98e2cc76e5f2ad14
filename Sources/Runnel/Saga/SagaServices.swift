import Foundation
import Logging
import ServiceLifecycle

/// A handler in follow mode: handles records as the log grows and suspends when caught up
/// until the log changes, until a graceful shutdown (SIGTERM), honoured between batches so the
/// batch in hand commits first. It runs on a thread of its own, as ``PipelineService`` does.
public struct HandlerService: Service {
    public let handler: Handler
    public let store: Store
    private let clock: any WallClock
    private let logger: Logger
    /// A lock the caller took for the handler, or nil to take it on start.
    private let lock: RunnerLock?
    /// Makes the source to read at each start; nil reads the home's log.
    private let makeSource: (@Sendable () throws -> RecordSource)?

    /// Creates a follower for a handler.
    /// - Parameters:
    ///   - handler: The handler.
    ///   - store: The home's databases.
    ///   - clock: The clock that gives replies their event time.
    ///   - logger: Where the follower logs its start, its stop and dead letters.
    public init(handler: Handler, store: Store, clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "runnel.handler")) {
        self.init(handler: handler, store: store, clock: clock, logger: logger, holding: nil)
    }

    /// A follower that runs under a lock the caller already holds for the handler (nil: it
    /// takes the lock on start).
    package init(handler: Handler, store: Store, clock: any WallClock = SystemWallClock(), logger: Logger, holding lock: RunnerLock?,
                 source: (@Sendable () throws -> RecordSource)? = nil) {
        makeSource = source
        self.handler = handler
        self.store = store
        self.clock = clock
        self.logger = logger
        self.lock = lock
    }

    public func run() async throws {
        try await ServiceThread.run(named: "runnel.handler") {
            let made = try await RecordSource.forFollower(makeSource, logger: logger, runner: "handler \(handler.name)")
            if case .stopped = made { return }
            let source = RecordSource.followed(made)
            let runner = try lock.map { try HandlerRunner(handler: handler, store: store, clock: clock, logger: logger, holding: $0, source: source) }
                ?? HandlerRunner(handler: handler, store: store, clock: clock, logger: logger, source: source)
            logger.info("handler following the log", metadata: ["handler": "\(handler.name)"])
            try await LogFollower.follow(store: store, folders: { runner.inputFolders }, nextDeadline: { nil }, clock: clock) {
                try runner.runBatch().records > 0
            }
            logger.info("handler stopping after its last batch", metadata: ["handler": "\(handler.name)"])
        }
    }
}

/// A saga's coordinator in follow mode: applies replies as the log grows and acts on each
/// deadline when it comes, until a graceful shutdown (SIGTERM), honoured between batches.
public struct SagaService: Service {
    public let saga: Saga
    public let store: Store
    private let clock: any WallClock
    private let logger: Logger
    /// A lock the caller took for the saga, or nil to take it on start.
    private let lock: RunnerLock?
    /// Makes the source to read at each start; nil reads the home's log.
    private let makeSource: (@Sendable () throws -> RecordSource)?

    /// Creates a follower for a saga's coordinator.
    /// - Parameters:
    ///   - saga: The saga.
    ///   - store: The home's databases.
    ///   - clock: The clock deadlines are read from. The follower sleeps in real time until the
    ///     next deadline (or a change to the log), then reads the clock.
    ///   - logger: Where the follower logs its start, its stop, dead letters and failed instances.
    public init(saga: Saga, store: Store, clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "runnel.saga")) {
        self.init(saga: saga, store: store, clock: clock, logger: logger, holding: nil)
    }

    /// A follower that runs under a lock the caller already holds for the saga (nil: it takes
    /// the lock on start).
    package init(saga: Saga, store: Store, clock: any WallClock = SystemWallClock(), logger: Logger, holding lock: RunnerLock?,
                 source: (@Sendable () throws -> RecordSource)? = nil) {
        makeSource = source
        self.saga = saga
        self.store = store
        self.clock = clock
        self.logger = logger
        self.lock = lock
    }

    public func run() async throws {
        try await ServiceThread.run(named: "runnel.saga") {
            let made = try await RecordSource.forFollower(makeSource, logger: logger, runner: "saga \(saga.name)")
            if case .stopped = made { return }
            let source = RecordSource.followed(made)
            let coordinator = try lock.map { try SagaCoordinator(saga: saga, store: store, clock: clock, logger: logger, holding: $0, source: source) }
                ?? SagaCoordinator(saga: saga, store: store, clock: clock, logger: logger, source: source)
            logger.info("saga coordinator following the log", metadata: ["saga": "\(saga.name)"])
            try await LogFollower.follow(store: store, folders: { coordinator.inputFolders }, nextDeadline: { try coordinator.nextDeadline() }, clock: clock) {
                !(try coordinator.runBatch().isEmpty)
            }
            logger.info("saga coordinator stopping after its last batch", metadata: ["saga": "\(saga.name)"])
        }
    }
}

/// The loop of a follower that consumes the log: run batches while they find work, then
/// suspend until an append (in this process at once, in another through the file watcher),
/// the next deadline, or the idle check.
enum LogFollower {
    static func follow(store: Store, folders: () -> [URL], nextDeadline: () throws -> Date?, clock: any WallClock,
                       batch: () throws -> Bool) async throws {
        let signal = ChangeSignal()
        let notices = LogAppendNotices.subscribe(signal, toLogIn: store.home.logURL)
        defer { LogAppendNotices.unsubscribe(notices) }
        let subscription = FileWatcher.shared?.subscribe(signal, to: [])
        defer { subscription.map { FileWatcher.shared?.cancel($0) } }
        var watched = 0
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            if try batch() { continue }
            let current = folders()
            if let subscription, current.count != watched {
                FileWatcher.shared?.add(current, to: subscription)
                watched = current.count
                continue
            }
            // Without folders to watch (a Kafka cluster), look on a short timer.
            var timeout = current.isEmpty ? min(FileWatcher.idleCheckInterval, .milliseconds(100)) : FileWatcher.idleCheckInterval
            if let deadline = try nextDeadline() {
                let wait = Duration.milliseconds(max(0, deadline.millisecondsSince1970 - clock.now().millisecondsSince1970))
                timeout = min(timeout, wait)
            }
            await signal.wait(timeout: timeout)
        }
    }
}
