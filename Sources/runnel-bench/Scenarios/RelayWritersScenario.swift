import Foundation
import GRDB
import Runnel
import RunnelTesting

/// `relay-writers`: whether writers keep their commit rate while the relay follows their
/// outbox, against the same writer with no relay running.
///
/// Both sides commit one event per transaction (a ``BenchEvent``, an `ActivityRecorded`-like
/// payload of about 200 bytes) with ``Outbox/append(_:in:)`` in `app.write`, each side in a home
/// of its own, at the product's settings (WAL, `synchronous = FULL`, so every commit waits for
/// its fsync). On Runnel's side ``RelayService`` follows in a task of the same process, as in
/// `relay-latency`: it appends the rows to the log, fsyncs it and deletes them from
/// `app.sqlite`, all of which contends with the writer for the disk and the database's write
/// lock. A reader thread follows the log as a consumer would and matches each record's
/// `outbox-id` header to its commit time, giving each commit's commit → log latency. The
/// baseline's writer runs alone; the rows it leaves are deleted before each of its sessions,
/// untimed.
///
/// The headline is the writer at its maximum rate: a closed loop committing as fast as it can
/// for the round's seconds, Runnel's rate over the baseline's, goal 0.8 (the relay may take at
/// most a fifth of what one writer can commit). Beside it the writer is paced at 1K and 3K
/// commits/s: both sides must reach 95% of the target (a writer that falls behind its pace
/// shows that the relay, or the disk when the baseline falls behind too, takes its rate), and
/// Runnel's commit → log p99 must stay within 10 ms.
///
/// Each round runs, on each side in turn (``Interleaving``), a maximum-rate session, then a 1K
/// and a 3K session; the relay and the reader start afresh for every session and every session
/// starts from a checkpointed WAL. Nothing is random: event `n` is the same on both sides.
struct RelayWritersScenario: Scenario {
    let name = "relay-writers"
    let summary = "commits/s of a writer (one outbox event a tx) while the relay follows vs with no relay; p99 commit → log at 1K and 3K/s"
    let unit = "commits/s"
    let goal = 0.8

    /// How fast a session's writer commits.
    enum Mode: Sendable {
        /// Back to back, each commit as soon as the previous one returns.
        case maximum
        /// At this many commits a second.
        case paced(Int)

        /// A `snake_case` name for figures: `max`, `1k`, `3k`.
        var key: String {
            switch self {
            case .maximum: "max"
            case .paced(let rate): rate.isMultiple(of: 1_000) ? "\(rate / 1_000)k" : "\(rate)"
            }
        }

        /// The rate aimed at, if paced.
        var target: Int? {
            if case .paced(let rate) = self { rate } else { nil }
        }
    }

    /// The sessions of every round, in the order each side runs them.
    static let modes: [Mode] = [.maximum, .paced(1_000), .paced(3_000)]
    /// The p99 commit → log latency the paced sessions must keep, in microseconds.
    static let p99Limit = 10_000.0
    /// Room for a maximum-rate session's commits, per second of writing: far above what an
    /// fsync per commit allows.
    static let maximumRate = 100_000

    /// How much one run does.
    struct Size {
        /// Counted rounds, each running every session on both sides.
        var rounds: Int
        /// Seconds of writing per session in a counted round.
        var roundSeconds: Double
        /// Seconds of writing per session in the warm-up round.
        var warmUpSeconds: Double
    }

    /// A quick run writes 1.5 s per session and side (about 10 s in all), a full one 6.5 s
    /// (under a minute in all).
    static func size(quick: Bool) -> Size {
        quick ? Size(rounds: 2, roundSeconds: 0.6, warmUpSeconds: 0.3) : Size(rounds: 4, roundSeconds: 1.5, warmUpSeconds: 0.5)
    }

    /// One round: the same for both sides.
    struct Plan: Sendable {
        /// The round's number, warm-up first (0).
        var round: Int
        /// Whether the round is counted (not the warm-up).
        var counted: Bool
        /// Seconds of writing per session.
        var seconds: Double

        /// The number of session `mode`'s first event: the same on both sides, apart from
        /// every other session's.
        func firstSequence(_ mode: Int) -> Int64 {
            Int64(round * RelayWritersScenario.modes.count + mode) * 10_000_000
        }
    }

    /// What one side measured in one mode over the counted rounds.
    struct ModeFigures {
        /// Commits made.
        var commits = 0
        /// Time spent writing them (each session from its start to its last commit's end).
        var writing: Duration = .zero
        /// Each commit's duration (the `write` call).
        var commitLatency = LatencyRecorder()
        /// Runnel's side: each commit's commit → log latency.
        var toLog = LatencyRecorder()
        /// Runnel's side: log batches the relay appended for these commits.
        var batches = 0
        /// Each counted round's commits per second.
        var roundRates: [Double] = []

        /// Commits per second of writing.
        var rate: Double { writing > .zero ? Double(commits) / writing.seconds : 0 }
        /// Commits per log batch.
        var recordsPerBatch: Double { Double(commits) / Double(max(batches, 1)) }

        /// Adds one counted session: its commits, how long they took and each one's duration.
        mutating func add(commits count: Int, span: Duration, latency: LatencyRecorder) {
            commits += count
            writing += span
            commitLatency.add(latency)
            roundRates.append(span > .zero ? Double(count) / span.seconds : 0)
        }
    }

    /// Runs both sides in two homes of their own, removed when the run ends.
    func run(quick: Bool) throws -> SideBySideMeasurement {
        let runnelHome = try TemporaryHome(label: "bench-writers-runnel")
        let baselineHome = try TemporaryHome(label: "bench-writers-baseline")
        return try withExtendedLifetime((runnelHome, baselineHome)) {
            try measure(runnelHome: runnelHome, baselineHome: baselineHome, size: Self.size(quick: quick))
        }
    }

    /// Runs every round's sessions on both sides and checks that every commit of Runnel's side
    /// reached the log exactly once and left no row behind.
    /// - Throws: ``BenchmarkError`` when a commit is missing from the log, is there twice, or its
    ///   row is left in the outbox.
    private func measure(runnelHome: TemporaryHome, baselineHome: TemporaryHome, size: Size) throws -> SideBySideMeasurement {
        let runnelStore = try runnelHome.openStore()
        let baselineStore = try baselineHome.openStore()
        let log = try Log.open(runnelHome.home.logURL)
        try log.createTopic(BenchEvent.topic)
        let relay = try OutboxRelay(store: runnelStore, log: log)
        let logURL = runnelHome.home.logURL

        let interleaving = Interleaving(rounds: size.rounds, warmUpRounds: 1)
        var runnel = Array(repeating: ModeFigures(), count: Self.modes.count)
        var baseline = Array(repeating: ModeFigures(), count: Self.modes.count)
        var runnelCommits = 0
        var batchesSoFar = 0
        _ = try interleaving.run(
            input: { round in
                let counted = round >= interleaving.warmUpRounds
                return Plan(round: round, counted: counted, seconds: counted ? size.roundSeconds : size.warmUpSeconds)
            },
            runnel: { plan, _ in
                for (index, mode) in Self.modes.enumerated() {
                    try Self.checkpoint(runnelStore)
                    let first = plan.firstSequence(index)
                    let capacity = Int(plan.seconds * Double(mode.target ?? Self.maximumRate)) + 1
                    let probe = WriterSessionProbe(firstID: try RelayLatencyScenario.nextID(of: "runnel_outbox", in: runnelStore),
                                                   capacity: capacity)
                    let start = try log.topic(BenchEvent.topic)?.partitions.first?.endOffset ?? 0
                    let deadline = LatencyProbe.now() + UInt64((plan.seconds + 30) * 1e9)
                    let service = RelayService(relay: relay)
                    var latency = LatencyRecorder()
                    let (count, span) = try Self.session(
                        probe: probe,
                        relay: BackgroundTask { try await service.run() },
                        reader: BackgroundThread(name: "runnel-bench log reader") {
                            try Self.followLog(logURL, from: start, probe: probe, deadline: deadline)
                        },
                        write: {
                            try Self.writeLoop(rate: mode.target, for: plan.seconds) { commit in
                                let began = ContinuousClock.now
                                let id = try Self.commit(first + Int64(commit), to: runnelStore)
                                latency.record(ContinuousClock.now - began)
                                try probe.committed(commit, id: id)
                            }
                        })
                    guard try RelayScenario.pending(runnelStore).rows == 0 else {
                        throw BenchmarkError("\(name): rows are left in the outbox after the relay stopped")
                    }
                    let toLog = try probe.latencies()
                    let batches = try RelayLatencyScenario.countBatches(in: log)
                    runnelCommits += count
                    if plan.counted {
                        runnel[index].add(commits: count, span: span, latency: latency)
                        runnel[index].toLog.add(toLog)
                        runnel[index].batches += batches - batchesSoFar
                    }
                    batchesSoFar = batches
                }
            },
            baseline: { plan, _ in
                for (index, mode) in Self.modes.enumerated() {
                    try baselineStore.app.write { db in try db.execute(sql: "DELETE FROM runnel_outbox") }
                    try Self.checkpoint(baselineStore)
                    let first = plan.firstSequence(index)
                    var latency = LatencyRecorder()
                    let (count, span) = try Self.writeLoop(rate: mode.target, for: plan.seconds) { commit in
                        let began = ContinuousClock.now
                        _ = try Self.commit(first + Int64(commit), to: baselineStore)
                        latency.record(ContinuousClock.now - began)
                    }
                    let left = try RelayScenario.pending(baselineStore).rows
                    guard left == count else {
                        throw BenchmarkError("\(name): the baseline committed \(count) events but its outbox holds \(left)")
                    }
                    if plan.counted { baseline[index].add(commits: count, span: span, latency: latency) }
                }
            })

        // Every commit of Runnel's side reached the log exactly once: each session's reader saw
        // each of its ids once, and the log holds no record more.
        let inLog = try log.topic(BenchEvent.topic)?.partitions.reduce(Int64(0)) { $0 + $1.endOffset } ?? 0
        guard inLog == Int64(runnelCommits) else {
            throw BenchmarkError("\(name): the log holds \(inLog) records for \(runnelCommits) commits")
        }
        try log.close()
        return Self.measurement(runnel: runnel, baseline: baseline, size: size)
    }

    /// The headline (maximum rate, with the relay over without), the goals and the figures of
    /// every mode.
    private static func measurement(runnel: [ModeFigures], baseline: [ModeFigures], size: Size) -> SideBySideMeasurement {
        let maximum = modes.firstIndex { $0.target == nil } ?? 0
        let paced = modes.indices.filter { modes[$0].target != nil }
        let p99Met = paced.allSatisfy { runnel[$0].toLog.summary.p99 <= p99Limit }
        let ratesReached = paced.allSatisfy { index in
            let target = Double(modes[index].target ?? 0)
            return runnel[index].rate >= 0.95 * target && baseline[index].rate >= 0.95 * target
        }
        let roundRatios = zip(runnel[maximum].roundRates, baseline[maximum].roundRates).map { $1 > 0 ? $0 / $1 : 0 }
        var detail: [Figure] = []
        for (index, mode) in modes.enumerated() {
            let key = mode.key
            let toLog = runnel[index].toLog.summary
            detail += [
                Figure("runnel_\(key)_commits_per_s", runnel[index].rate),
                Figure("baseline_\(key)_commits_per_s", baseline[index].rate),
                Figure("runnel_\(key)_commits", runnel[index].commits),
                Figure("baseline_\(key)_commits", baseline[index].commits),
                Figure("runnel_\(key)_commit_to_log_p50_ms", toLog.p50 / 1000),
                Figure("runnel_\(key)_commit_to_log_p99_ms", toLog.p99 / 1000),
                Figure("runnel_\(key)_commit_to_log_max_ms", toLog.max / 1000),
                Figure("runnel_\(key)_records_per_log_batch", runnel[index].recordsPerBatch),
                Figure("runnel_\(key)_commit_p99_us", runnel[index].commitLatency.summary.p99),
                Figure("baseline_\(key)_commit_p99_us", baseline[index].commitLatency.summary.p99),
            ]
        }
        detail += [
            Figure("max_round_ratio_min", roundRatios.min() ?? 0),
            Figure("max_round_ratio_max", roundRatios.max() ?? 0),
            Figure("rounds", size.rounds),
            Figure("round_seconds", size.roundSeconds),
        ]
        func ms(_ microseconds: Double) -> String { FigureFormat.display(microseconds / 1000) }
        let maxToLog = runnel[maximum].toLog.summary
        let pacedNotes = paced.map { index in
            let toLog = runnel[index].toLog.summary
            return "\(modes[index].key.uppercased())/s: achieved \(FigureFormat.display(runnel[index].rate)) vs "
                + "\(FigureFormat.display(baseline[index].rate)), commit → log p50/p99 \(ms(toLog.p50))/\(ms(toLog.p99)) ms, "
                + "\(FigureFormat.display(runnel[index].recordsPerBatch)) records/batch"
        }
        return SideBySideMeasurement(
            runnel: runnel[maximum].rate,
            baseline: baseline[maximum].rate,
            runnelLatency: runnel[maximum].commitLatency.summary,
            baselineLatency: baseline[maximum].commitLatency.summary,
            goals: [Goal("p99 ≤ 10 ms at 1K and 3K", met: p99Met), Goal("target rates reached", met: ratesReached)],
            detail: detail,
            note: "p50/p99 µs above: each commit's write call at max rate; max rate commit → log p50/p99 \(ms(maxToLog.p50))/\(ms(maxToLog.p99)) ms, "
                + "\(FigureFormat.display(runnel[maximum].recordsPerBatch)) records/batch, round ratios "
                + "\(FigureFormat.displayRatio(roundRatios.min() ?? 0))–\(FigureFormat.displayRatio(roundRatios.max() ?? 0)); "
                + pacedNotes.joined(separator: "; ")
                + "; \(size.rounds) rounds × \(FigureFormat.display(size.roundSeconds)) s a session and side after a warm-up, one fsynced tx a commit")
    }
}
