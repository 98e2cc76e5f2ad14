import Foundation

/// Runs the relay, handlers and saga coordinators in turn, again and again, until a whole round
/// relays nothing and no runner does anything: every saga step is a command relayed to a
/// handler and a reply relayed back, so an instance needs a few rounds to finish. For batch
/// runs (`runnel demo`), tests and benchmarks; in production each runs as a follower.
///
/// ```swift
/// let drain = try SagaDrain(relay: OutboxRelay(store: store, log: log), handlers: catalog.handlers, sagas: catalog.sagas)
/// let done = try drain.run()
/// print(done.rounds, done.coordinated.completed, done.coordinated.compensated)
/// ```
///
/// The runners are made once, by the initialiser: each holds its handler's or saga's lock while
/// the drain lives.
public final class SagaDrain {
    /// What a run did.
    public struct Summary: Sendable, Hashable {
        /// Rounds of relay, handlers and coordinators, the last one idle.
        public var rounds = 0
        /// Rows the relay moved into the log.
        public var relayed = 0
        /// What the handlers did, summed.
        public var handled = HandlerRunner.Summary()
        /// What the coordinators did, summed.
        public var coordinated = SagaCoordinator.Summary()
    }

    private let relay: OutboxRelay
    private let handlers: [HandlerRunner]
    private let coordinators: [SagaCoordinator]

    /// Makes every runner, taking their locks.
    /// - Parameters:
    ///   - relay: The home's relay; the runners work on its store.
    ///   - handlers: The handlers to run.
    ///   - sagas: The sagas whose coordinators to run.
    ///   - clock: The clock handlers and coordinators read.
    ///   - source: Makes the source each handler and coordinator reads (one each); nil reads
    ///     the home's log. A relay into Kafka goes with a Kafka source.
    /// - Throws: ``RunnelError`` `.concurrentRunner` when another process runs one of them.
    public init(relay: OutboxRelay, handlers: [Handler], sagas: [Saga], clock: any WallClock = SystemWallClock(),
                source: (() throws -> RecordSource)? = nil) throws {
        self.relay = relay
        let store = relay.store
        self.handlers = try handlers.map { try HandlerRunner(handler: $0, store: store, clock: clock, source: source?()) }
        coordinators = try sagas.map { try SagaCoordinator(saga: $0, store: store, clock: clock, source: source?()) }
    }

    /// Runs rounds until one finds nothing to do.
    /// - Parameter maximumRounds: A bound on rounds: more means commands and replies loop.
    /// - Throws: ``RunnelError`` `.saga` past the bound; what the relay and runners throw.
    @discardableResult
    public func run(maximumRounds: Int = 10_000) throws -> Summary {
        var summary = Summary()
        while true {
            summary.rounds += 1
            let drained = try relay.drain().relayed
            summary.relayed += drained
            var busy = drained > 0
            for runner in handlers {
                let done = try runner.runToEnd()
                summary.handled.add(done)
                if done.records > 0 { busy = true }
            }
            for coordinator in coordinators {
                let done = try coordinator.runToEnd()
                summary.coordinated.add(done)
                if !done.isEmpty { busy = true }
            }
            if !busy { return summary }
            guard summary.rounds < maximumRounds else {
                throw RunnelError(.saga, "the handlers and sagas were still busy after \(maximumRounds) rounds of relay, handlers and coordinators: commands and replies loop",
                                  hint: "Look at the sagas' timelines in runnel_saga_log and the handlers' dead letters in runnel_consumer_dead_letters")
            }
        }
    }
}
