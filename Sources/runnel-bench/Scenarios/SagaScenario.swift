import Foundation
import GRDB
import Runnel
import RunnelTesting

/// `saga`: orders taken through a 4-step saga (reserve, charge, ship, receipt), each step's
/// command carried out by a handler that writes one business row, against the same business
/// rows written by plain SQLite transactions without any saga bookkeeping.
///
/// The project's goal asks for at least 5,000 sagas/s end to end, an absolute figure (in the
/// detail); the ratio goal is 0.5.
///
/// Runnel's side, in a temporary home: the orders and their start events are committed in
/// transactions of 1,000 (an `orders` row and an ``Outbox/append(_:in:)`` each), then one thread
/// loops — ``OutboxRelay/drain()``, each ``HandlerRunner/runBatch()``, then
/// ``SagaCoordinator/runBatch()`` — until every instance is `completed`. Everything runs with
/// production durability: `app.sqlite` at `synchronous = FULL`, an fsync of the log per relay
/// batch. The time of each part of the loop is in the detail.
///
/// The baseline, in another home with the same settings: the `orders` rows in transactions of
/// 1,000, then for each of the 4 steps its row per order, in transactions of 1,000 (the
/// handlers' batch size). Both sides are timed once, from the first order to the last row.
struct SagaScenario: Scenario {
    let name = "saga"
    let summary = "orders through a 4-step saga with 4 handlers (outbox, relay, log, coordinator) vs the same rows in plain SQLite transactions"
    let unit = "sagas/s"
    let goal = 0.5

    /// The design's absolute goal.
    static let designSagasPerSecond = 5_000.0

    /// How much one run does.
    struct Size {
        /// Sagas (orders) per side.
        var sagas: Int
        /// Rows per transaction: start events, handler and coordinator batches, baseline transactions.
        var batch: Int
    }

    /// The size of a quick or a full run.
    static func size(quick: Bool) -> Size {
        quick ? Size(sagas: 2_000, batch: 1_000) : Size(sagas: 20_000, batch: 1_000)
    }

    func run(quick: Bool) throws -> SideBySideMeasurement {
        let size = Self.size(quick: quick)
        let runnelHome = try TemporaryHome(label: "bench-saga-runnel")
        let baselineHome = try TemporaryHome(label: "bench-saga-baseline")
        return try withExtendedLifetime((runnelHome, baselineHome)) {
            let runnel = try runSagas(in: runnelHome, size: size)
            let baseline = try runWithoutSagas(in: baselineHome, size: size)
            return measurement(size: size, runnel: runnel, baseline: baseline)
        }
    }

    private func measurement(size: Size, runnel: SagaRun, baseline: Duration) -> SideBySideMeasurement {
        let runnelRate = Double(size.sagas) / runnel.elapsed.seconds
        let baselineRate = Double(size.sagas) / baseline.seconds
        let meetsGoal = runnelRate >= Self.designSagasPerSecond
        let parts = [("start", runnel.start), ("relay", runnel.relay), ("handlers", runnel.handlers), ("coordinator", runnel.coordinator)]
        return SideBySideMeasurement(
            runnel: runnelRate,
            baseline: baselineRate,
            goals: [Goal("≥ 5K sagas/s", met: meetsGoal)],
            detail: [
                Figure("runnel_sagas_per_s", runnelRate),
                Figure("baseline_sagas_per_s", baselineRate),
                Figure("sagas_per_side", size.sagas),
                Figure("steps", SagaWorkload.steps.count),
                Figure("batch_rows", size.batch),
                Figure("loop_rounds", runnel.rounds),
                Figure("relayed_records", runnel.relayed),
                Figure("relay_cycles", runnel.relayCycles),
            ] + parts.map { Figure("runnel_\($0.0)_s", $0.1.seconds) }
              + [Figure("baseline_s", baseline.seconds)],
            note: "\(size.sagas) sagas of \(SagaWorkload.steps.count) steps a side, \(size.batch)-row batches, synchronous = FULL; "
                + "runnel \(FigureFormat.display(runnelRate)) sagas/s; "
                + "\(runnel.rounds) loop rounds, time in " + parts.map { "\($0.0) \(FigureFormat.display($0.1.seconds)) s" }.joined(separator: ", ")
                + "; \(runnel.relayed) records relayed in \(runnel.relayCycles) cycles")
    }

    /// What Runnel's side did and where its time went.
    struct SagaRun {
        var elapsed: Duration = .zero
        var start: Duration = .zero
        var relay: Duration = .zero
        var handlers: Duration = .zero
        var coordinator: Duration = .zero
        var rounds = 0
        var relayed = 0
        var relayCycles = 0
    }

    /// Runnel's side: start events through the outbox, then relay → handlers → coordinator on one
    /// thread until every instance is completed.
    private func runSagas(in home: TemporaryHome, size: Size) throws -> SagaRun {
        let store = try home.openStore(migrations: SagaWorkload.migrations)
        let log = try Log.open(home.home.logURL)
        defer { try? log.close() }
        let saga = SagaWorkload.saga(batch: size.batch)
        let relay = try OutboxRelay(store: store, log: log)
        let handlers = try SagaWorkload.handlers(batch: size.batch).map { try HandlerRunner(handler: $0, store: store) }
        let coordinator = try SagaCoordinator(saga: saga, store: store)

        var run = SagaRun()
        let clock = ContinuousClock()
        let began = clock.now
        run.start = try clock.measure { try SagaWorkload.placeOrders(size.sagas, batch: size.batch, in: store) }
        var completed = 0
        while completed < size.sagas {
            run.rounds += 1
            var mark = clock.now
            let relayed = try relay.drain()
            run.relay += clock.now - mark
            run.relayed += relayed.relayed
            run.relayCycles += relayed.cycles
            var busy = relayed.relayed > 0
            for handler in handlers {
                mark = clock.now
                let handled = try handler.runBatch()
                run.handlers += clock.now - mark
                guard handled.deadLetters == 0 else { throw BenchmarkError("\(name): handler \(handler.handler.name) dead-lettered \(handled.deadLetters) commands") }
                busy = busy || handled.records > 0
            }
            mark = clock.now
            let done = try coordinator.runBatch()
            run.coordinator += clock.now - mark
            guard done.deadLetters == 0, done.timeouts == 0, done.ignoredReplies == 0 else {
                throw BenchmarkError("\(name): the coordinator saw \(done.deadLetters) dead letters, \(done.timeouts) timeouts and \(done.ignoredReplies) ignored replies")
            }
            completed += done.completed
            busy = busy || !done.isEmpty
            guard busy else { throw BenchmarkError("\(name): nothing left to do with \(completed) of \(size.sagas) sagas completed") }
        }
        run.elapsed = clock.now - began

        let counts = try store.app.read { try SagaRecords.counts(of: saga.name, in: $0) }
        guard counts[.completed] == size.sagas, counts.count == 1 else {
            throw BenchmarkError("\(name): the instances ended \(counts), expected \(size.sagas) completed")
        }
        try SagaWorkload.checkRows(size.sagas, in: store, side: "Runnel's")
        return run
    }

    /// The baseline: the same business rows, step by step, in transactions of the same size.
    private func runWithoutSagas(in home: TemporaryHome, size: Size) throws -> Duration {
        let store = try home.openStore(migrations: SagaWorkload.migrations)
        let elapsed = try ContinuousClock().measure {
            try SagaWorkload.placeOrders(size.sagas, batch: size.batch, in: store, announce: false)
            for step in SagaWorkload.steps {
                var first = 1
                while first <= size.sagas {
                    let last = min(first + size.batch - 1, size.sagas)
                    try store.app.write { db in
                        let statement = try db.cachedStatement(sql: step.sql)
                        for order in first...last { try statement.execute(arguments: [order, SagaWorkload.cents(order)]) }
                    }
                    first = last + 1
                }
            }
        }
        try SagaWorkload.checkRows(size.sagas, in: store, side: "the baseline's")
        return elapsed
    }
}
