import Foundation
import GRDB
import Runnel
import RunnelTesting

/// `relay-latency`: how long a committed event takes to reach the log with the relay in follow
/// mode, at a steady 5K events/s, against the simplest change data capture: a reader polling
/// the table the events are committed to.
///
/// The project's goal asks for a commit → log p99 of at most 10 ms at 5K events/s, an absolute figure
/// (in the detail). The ratio compares p99s (the baseline's over Runnel's); its goal is 0.5:
/// the relay does more than notice a commit (it appends, fsyncs and deletes), but should not
/// take much more than twice as long as a bare poll.
///
/// A writer commits one event per transaction with ``Outbox/append(_:in:)``, paced at 5K a
/// second, and reads the clock right after each commit returns. ``RelayService`` runs in a task
/// of the same process (woken by the WAL write of each commit). A reader thread, as a
/// consumer in another process would, opens the log read-only once per round, then before
/// every poll refreshes the partition (``PartitionLog/refresh()`` picks up what the relay
/// appended since: see ``followLog(_:from:probe:deadline:)``), calls
/// ``PartitionLog/read(from:maxBytes:)``, and reads the clock when records arrive; an event's
/// latency is that time less its commit time, matched by the record's `outbox-id` header. When
/// a poll finds nothing, the reader sleeps 1 ms. The baseline's writer commits the same JSON to a
/// plain table in another home, one row per transaction at the same pace, and its reader polls
/// `SELECT … WHERE id > ?` on a connection of its own, sleeping 1 ms after an empty poll. Each
/// event's JSON also carries the time it was sent.
struct RelayLatencyScenario: Scenario {
    let name = "relay-latency"
    let summary = "commit → log p99 of the relay in follow mode at 5K events/s vs a plain table polled every 1 ms"
    let unit = "p99 ms"
    let goal = 0.5
    var direction: Direction { .lowerIsBetter }

    /// Events per second the writers aim for.
    static let rate = 5_000

    /// How much one run does.
    typealias Size = TimedRounds

    static func size(quick: Bool) -> Size { TimedRounds(quick: quick) }

    /// One round's events, the same for both sides.
    struct Plan: Sendable {
        /// The number of the round's first event (``BenchEvent/init(_:sentAtNs:)``).
        var firstSequence: Int
        var events: Int
        /// Whether the round is counted (not the warm-up).
        var counted: Bool
    }

    /// What one side measured over the counted rounds.
    private struct SideFigures {
        var latency = LatencyRecorder()
        var polls = LatencyRecorder()
        var events = 0
        var writing: Duration = .zero

        /// Events committed per second of writing.
        var rate: Double { writing > .zero ? Double(events) / writing.seconds : 0 }

        mutating func add(_ probe: LatencyProbe, writing span: Duration) throws {
            latency.add(try probe.latencies())
            polls.add(probe.polls)
            events += probe.count
            writing += span
        }
    }

    func run(quick: Bool) throws -> SideBySideMeasurement {
        let runnelHome = try TemporaryHome(label: "bench-latency-runnel")
        let baselineHome = try TemporaryHome(label: "bench-latency-baseline")
        return try withExtendedLifetime((runnelHome, baselineHome)) {
            try measure(runnelHome: runnelHome, baselineHome: baselineHome, size: Self.size(quick: quick))
        }
    }

    private func measure(runnelHome: TemporaryHome, baselineHome: TemporaryHome, size: Size) throws -> SideBySideMeasurement {
        let runnelStore = try runnelHome.openStore()
        let baselineStore = try baselineHome.openStore()
        try baselineStore.app.write { db in
            try db.execute(sql: "CREATE TABLE bench_events (id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL)")
        }
        let log = try Log.open(runnelHome.home.logURL)
        try log.createTopic(BenchEvent.topic)
        let relay = try OutboxRelay(store: runnelStore, log: log)
        var readOnly = Configuration()
        readOnly.readonly = true
        let tableReader = try DatabaseQueue(path: baselineHome.home.appDatabaseURL.path, configuration: readOnly)

        let interleaving = Interleaving(rounds: size.rounds, warmUpRounds: 1)
        var sequence = 0
        var runnel = SideFigures()
        var baseline = SideFigures()
        let sides = try interleaving.run(
            input: { round in
                let counted = round >= interleaving.warmUpRounds
                let events = Int((counted ? size.roundSeconds : size.warmUpSeconds) * Double(Self.rate))
                defer { sequence += events }
                return Plan(firstSequence: sequence, events: events, counted: counted)
            },
            runnel: { plan, tally in
                let logURL = runnelHome.home.logURL
                let probe = LatencyProbe(firstID: try Self.nextID(of: "runnel_outbox", in: runnelStore), count: plan.events)
                let start = try log.topic(BenchEvent.topic)?.partitions.first?.endOffset ?? 0
                let deadline = Self.deadline(plan)
                let service = RelayService(relay: relay)
                let span = try Self.session(
                    probe: probe,
                    background: BackgroundTask { try await service.run() },
                    reader: BackgroundThread(name: "runnel-bench log reader") {
                        try Self.followLog(logURL, from: start, probe: probe, deadline: deadline)
                    },
                    write: {
                        try Self.paced(plan.events, rate: Self.rate) { index in
                            let event = BenchEvent(Int64(plan.firstSequence + index), sentAtNs: LatencyProbe.now())
                            let id = try tally.time {
                                try runnelStore.app.write { db in try runnelStore.outbox.append(event.outboxEvent, in: db) }
                            }
                            try probe.committed(index, id: id)
                        }
                    })
                guard try RelayScenario.pending(runnelStore).rows == 0 else {
                    throw BenchmarkError("\(name): rows are left in the outbox after the relay stopped")
                }
                if plan.counted { try runnel.add(probe, writing: span) }
            },
            baseline: { plan, tally in
                let probe = LatencyProbe(firstID: try Self.nextID(of: "bench_events", in: baselineStore), count: plan.events)
                let deadline = Self.deadline(plan)
                let span = try Self.session(
                    probe: probe,
                    background: nil,
                    reader: BackgroundThread(name: "runnel-bench table reader") {
                        try Self.followTable(tableReader, after: probe.firstID - 1, probe: probe, deadline: deadline)
                    },
                    write: {
                        try Self.paced(plan.events, rate: Self.rate) { index in
                            let event = BenchEvent(Int64(plan.firstSequence + index), sentAtNs: LatencyProbe.now())
                            let id = try tally.time {
                                try baselineStore.app.write { db in
                                    try db.execute(sql: "INSERT INTO bench_events (payload) VALUES (?)",
                                                   arguments: [String(decoding: try event.json(), as: UTF8.self)])
                                    return db.lastInsertedRowID
                                }
                            }
                            try probe.committed(index, id: id)
                        }
                    })
                if plan.counted { try baseline.add(probe, writing: span) }
            })

        // Same work: every event of both sides committed once and reached its reader.
        let events = sequence
        let inLog = try log.topic(BenchEvent.topic)?.partitions.reduce(Int64(0)) { $0 + $1.endOffset } ?? 0
        let inTable = try baselineStore.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM bench_events") } ?? 0
        guard inLog == Int64(events), inTable == events, runnel.events == baseline.events,
              sides.runnel.operations == sides.baseline.operations else {
            throw BenchmarkError("\(name): \(inLog) records in the log and \(inTable) rows in the table; \(events) events were written a side")
        }
        let logBatches = try Self.countBatches(in: log)
        try log.close()

        let runnelLatency = runnel.latency.summary
        let baselineLatency = baseline.latency.summary
        let meetsGoal = runnelLatency.p99 <= 10_000
        // Each event is a transaction of its own, fsynced: a slow disk cannot commit 5K a second.
        let reachedRate = min(runnel.rate, baseline.rate) >= 0.95 * Double(Self.rate)
        let runnelCommits = sides.runnel.latency.summary
        let baselineCommits = sides.baseline.latency.summary
        let runnelPolls = runnel.polls.summary
        let baselinePolls = baseline.polls.summary
        return SideBySideMeasurement(
            runnel: runnelLatency.p99 / 1000,
            baseline: baselineLatency.p99 / 1000,
            runnelLatency: runnelLatency,
            baselineLatency: baselineLatency,
            goals: [Goal("p99 ≤ 10 ms", met: meetsGoal), Goal("target rate reached", met: reachedRate)],
            detail: [
                Figure("runnel_p50_ms", runnelLatency.p50 / 1000),
                Figure("runnel_p99_ms", runnelLatency.p99 / 1000),
                Figure("baseline_p50_ms", baselineLatency.p50 / 1000),
                Figure("baseline_p99_ms", baselineLatency.p99 / 1000),
                Figure("target_events_per_s", Self.rate),
                Figure("runnel_events_per_s", runnel.rate),
                Figure("baseline_events_per_s", baseline.rate),
                Figure("events_per_side", runnel.events),
                Figure("runnel_commit_p50_us", runnelCommits.p50),
                Figure("runnel_commit_p99_us", runnelCommits.p99),
                Figure("baseline_commit_p50_us", baselineCommits.p50),
                Figure("baseline_commit_p99_us", baselineCommits.p99),
                Figure("runnel_log_batches", logBatches),
                Figure("runnel_records_per_log_batch", Double(events) / Double(max(logBatches, 1))),
                Figure("runnel_poll_p50_us", runnelPolls.p50),
                Figure("runnel_poll_p99_us", runnelPolls.p99),
                Figure("baseline_poll_p50_us", baselinePolls.p50),
                Figure("baseline_poll_p99_us", baselinePolls.p99),
                Figure("rounds", size.rounds),
                Figure("round_seconds", size.roundSeconds),
            ],
            note: "latencies commit → seen by the reader; \(size.rounds) rounds × \(FigureFormat.display(size.roundSeconds)) s a side "
                + "aiming at \(Self.rate) events/s, one fsynced transaction each (achieved: runnel \(FigureFormat.display(runnel.rate)), "
                + "baseline \(FigureFormat.display(baseline.rate))\(reachedRate ? "" : ": target not reached"); "
                + "commit p50 \(FigureFormat.display(runnelCommits.p50)) vs \(FigureFormat.display(baselineCommits.p50)) µs); "
                + "\(FigureFormat.display(Double(events) / Double(max(logBatches, 1)))) records per log batch; "
                + "runnel p50/p99 \(FigureFormat.display(runnelLatency.p50 / 1000))/\(FigureFormat.display(runnelLatency.p99 / 1000)) ms "
                + "baseline \(FigureFormat.display(baselineLatency.p50 / 1000))/\(FigureFormat.display(baselineLatency.p99 / 1000)) ms; "
                + "reader poll p99 \(FigureFormat.display(runnelPolls.p99)) µs (log) vs \(FigureFormat.display(baselinePolls.p99)) µs (table)")
    }

    /// When a round's reader gives up: 30 s after its writer should have finished.
    private static func deadline(_ plan: Plan) -> UInt64 {
        LatencyProbe.now() + UInt64((Double(plan.events) / Double(rate) + 30) * 1e9)
    }

    /// The batches in every segment of the relay's topic, by walking their headers.
    static func countBatches(in log: Log) throws -> Int {
        var batches = 0
        for partition in try log.topic(BenchEvent.topic)?.partitions ?? [] {
            for url in try PlainFile.segmentFiles(in: partition.folder) {
                let bytes = try Data(contentsOf: url)
                try bytes.withUnsafeBytes { raw in
                    var position = 0
                    while position < raw.count {
                        position += try RecordBatch.header(raw, at: position).size
                        batches += 1
                    }
                }
            }
        }
        return batches
    }

    /// The id `AUTOINCREMENT` gives the next row of a table.
    static func nextID(of table: String, in store: Store) throws -> Int64 {
        try store.app.read { db in
            (try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?", arguments: [table]) ?? 0) + 1
        }
    }

    /// Runs the writer on this thread while the reader (and the relay) run beside it; then waits
    /// for the reader to see every event and stops the relay.
    /// - Returns: How long the writer took.
    private static func session(probe: LatencyProbe, background: BackgroundTask?, reader: BackgroundThread,
                                write: () throws -> Duration) throws -> Duration {
        let written = Result { try write() }
        if case .failure = written { probe.cancel() }
        let read = Result { try reader.join() }
        let stopped = Result { try background?.cancelAndJoin() }
        let span = try written.get()
        try read.get()
        try stopped.get()
        return span
    }
}
