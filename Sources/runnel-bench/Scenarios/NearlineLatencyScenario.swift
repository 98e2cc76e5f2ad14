import Foundation
import GRDB
import Runnel
import RunnelTesting

/// `nearline-latency`: how long a committed event takes to show in a read view, end to end, with
/// the relay and a pipeline both following, at a steady 10K events/s; against a hand-rolled
/// nearline view without Runnel, and beside the floor of a view kept in the writer's own
/// transaction.
///
/// The project's goal asks for a commit → read view p99 of at most 50 ms at 10K events/s, an absolute
/// figure (in the detail). The ratio compares p99s (the baseline's over Runnel's); its goal is
/// 0.25: Runnel's path has two followers in a row (outbox → log, log → view), each with a poll
/// and fsynced commits, where the baseline has one, and the log hop's extra fsync and delete.
///
/// Three sides run in turn, each in a home of its own, the order rotating every round:
///
/// - Runnel: a writer commits 10 events per transaction with ``Outbox/append(_:in:)``, one
///   transaction per millisecond (10K events/s), and reads the clock after each commit returns.
///   ``RelayService`` and ``PipelineService`` (woken by commits and appends, not polling) run in tasks of
///   the same process. The pipeline keeps the largest `seq` per writer
///   (`keyBy("writer").aggregate { Max("last_seq") }`) in a read view in `derived.sqlite`.
/// - Hand-rolled follower (the baseline): the same writer inserts the same JSON into a plain
///   table of `app.sqlite`; a thread polls it for new rows (`WHERE id > ?`, sleeping 1 ms when
///   idle), takes writer and seq with `json_extract`, and upserts the latest seq into a view in
///   `derived.sqlite`, one transaction per poll.
/// - Trigger floor: the same writer and table, with an `AFTER INSERT` trigger upserting the view
///   in the writer's own transaction: the least any view can lag its commit.
///
/// On every side an observer thread, as a reader in another process would, polls
/// `SELECT last_seq FROM view` on a read-only connection every 0.5 ms; an event's latency is the
/// time the observer first saw a `last_seq` at or past it, less its commit time. All databases
/// commit with the product's settings (WAL, `synchronous = FULL`).
struct NearlineLatencyScenario: Scenario {
    let name = "nearline-latency"
    let summary = "commit → read view p99 at 10K events/s, relay and pipeline following, vs a hand-rolled follower upserting a view (trigger floor beside)"
    let unit = "p99 ms"
    let goal = 0.25
    var direction: Direction { .lowerIsBetter }

    /// Events per second the writers aim for.
    static let rate = 10_000
    /// Events per write transaction: one transaction a millisecond.
    static let eventsPerTransaction = 10

    static let runnelView = "nearline_latest"
    static let followerView = "follower_latest"
    static let floorView = "floor_latest"

    /// How much one run does.
    typealias Size = TimedRounds

    static func size(quick: Bool) -> Size { TimedRounds(quick: quick) }

    /// The pipeline measured: the latest seq per writer, upserted into a read view.
    static let pipeline = Pipeline("bench-nearline", version: 1, description: "The latest seq per writer") {
        Source(NearlineEvent.topic, as: NearlineMark.self, type: NearlineEvent.type, time: \.at)
            .keyBy("writer", \.writer)
            .aggregate { Max("last_seq", \.seq) }
            .into(ReadView(runnelView, primaryKey: ["writer"]))
    }

    /// The three ways of keeping the view.
    enum Side: Int, CaseIterable {
        case runnel, follower, floor
    }

    /// What one side measured over the counted rounds.
    private struct SideFigures {
        var latency = LatencyRecorder()
        var polls = LatencyRecorder()
        var commits = LatencyRecorder()
        var events = 0
        var writing: Duration = .zero

        /// Events committed per second of writing.
        var rate: Double { writing > .zero ? Double(events) / writing.seconds : 0 }

        mutating func add(_ probe: VisibilityProbe, commits transactions: LatencyRecorder, writing span: Duration) throws {
            latency.add(try probe.latencies())
            polls.add(probe.polls)
            commits.add(transactions)
            events += probe.count
            writing += span
        }
    }

    func run(quick: Bool) throws -> SideBySideMeasurement {
        let homes = try Side.allCases.map { try TemporaryHome(label: "bench-nearline-\($0)") }
        return try withExtendedLifetime(homes) {
            try measure(homes: homes, size: Self.size(quick: quick))
        }
    }

    private func measure(homes: [TemporaryHome], size: Size) throws -> SideBySideMeasurement {
        let stores = try homes.map { try $0.openStore() }
        let runnelStore = stores[Side.runnel.rawValue]
        let followerStore = stores[Side.follower.rawValue]
        let floorStore = stores[Side.floor.rawValue]

        // Runnel: the relay's log and topic, and the pipeline's view (made by opening a runner once).
        let logURL = homes[Side.runnel.rawValue].home.logURL
        let log = try Log.open(logURL)
        try log.createTopic(NearlineEvent.topic)
        let relay = try OutboxRelay(store: runnelStore, log: log)
        _ = try PipelineRunner(pipeline: Self.pipeline, store: runnelStore)
        // The baselines' tables.
        try followerStore.app.write { db in
            try db.execute(sql: "CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
        }
        try followerStore.derived.write { db in
            try db.execute(sql: "CREATE TABLE \(Self.followerView) (writer INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL)")
        }
        try floorStore.app.write { db in
            try db.execute(sql: """
                CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);
                CREATE TABLE \(Self.floorView) (writer INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL);
                CREATE TRIGGER events_to_view AFTER INSERT ON events BEGIN
                    INSERT INTO \(Self.floorView) (writer, last_seq)
                    VALUES (json_extract(new.payload, '$.writer'), json_extract(new.payload, '$.seq'))
                    ON CONFLICT (writer) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq);
                END;
                """)
        }
        var readOnly = Configuration()
        readOnly.readonly = true
        let observers = try [
            DatabaseQueue(path: homes[Side.runnel.rawValue].home.derivedDatabaseURL.path, configuration: readOnly),
            DatabaseQueue(path: homes[Side.follower.rawValue].home.derivedDatabaseURL.path, configuration: readOnly),
            DatabaseQueue(path: homes[Side.floor.rawValue].home.appDatabaseURL.path, configuration: readOnly),
        ]
        let followerReader = try DatabaseQueue(path: homes[Side.follower.rawValue].home.appDatabaseURL.path, configuration: readOnly)
        let views = [Self.runnelView, Self.followerView, Self.floorView]

        var figures = Array(repeating: SideFigures(), count: Side.allCases.count)
        var nextSeq = Array(repeating: Int64(1), count: Side.allCases.count)
        for round in 0...size.rounds {
            let counted = round > 0
            let events = Int((counted ? size.roundSeconds : size.warmUpSeconds) * Double(Self.rate)) / Self.eventsPerTransaction * Self.eventsPerTransaction
            for turn in 0..<Side.allCases.count {
                let side = Side.allCases[(round + turn) % Side.allCases.count]
                let probe = VisibilityProbe(firstSeq: nextSeq[side.rawValue], count: events)
                let deadline = LatencyProbe.now() + UInt64((Double(events) / Double(Self.rate) + 30) * 1e9)
                let observer = BackgroundThread(name: "runnel-bench view observer") {
                    try Self.observe(observers[side.rawValue], view: views[side.rawValue], probe: probe, deadline: deadline)
                }
                var commits = LatencyRecorder()
                let span: Duration
                switch side {
                case .runnel:
                    let relayTask = BackgroundTask { try await RelayService(relay: relay).run() }
                    let pipelineTask = BackgroundTask { try await PipelineService(pipeline: Self.pipeline, store: runnelStore).run() }
                    usleep(100_000)  // let both open and reach their idle polls before the first commit
                    span = try Self.session(probe, observer: observer, stoppers: [pipelineTask.cancelAndJoin, relayTask.cancelAndJoin]) {
                        try Self.write(probe, commits: &commits) { seqs in
                            try runnelStore.app.write { db in
                                for seq in seqs {
                                    let event = NearlineEvent(seq: seq)
                                    _ = try runnelStore.outbox.append(
                                        OutboxEvent(topic: NearlineEvent.topic, key: String(event.writer), type: NearlineEvent.type, payload: event, eventTime: event.at), in: db)
                                }
                            }
                        }
                    }
                case .follower:
                    let stop = StopFlag()
                    let after = try followerStore.app.read { try Int64.fetchOne($0, sql: "SELECT max(id) FROM events") } ?? 0
                    let follower = BackgroundThread(name: "runnel-bench hand-rolled follower") {
                        try Self.follow(followerReader, into: followerStore.derived, after: after, stop: stop)
                    }
                    span = try Self.session(probe, observer: observer, stoppers: [{ stop.raise(); try follower.join() }]) {
                        try Self.write(probe, commits: &commits) { seqs in try Self.insert(seqs, into: followerStore.app) }
                    }
                case .floor:
                    span = try Self.session(probe, observer: observer, stoppers: []) {
                        try Self.write(probe, commits: &commits) { seqs in try Self.insert(seqs, into: floorStore.app) }
                    }
                }
                nextSeq[side.rawValue] += Int64(events)
                if counted { try figures[side.rawValue].add(probe, commits: commits, writing: span) }
            }
        }

        // Same work: every side committed every event once; Runnel's all went through the log.
        let written = nextSeq.map { $0 - 1 }
        let inLog = try log.topic(NearlineEvent.topic)?.partitions.reduce(Int64(0)) { $0 + $1.endOffset } ?? 0
        let pending = try RelayScenario.pending(runnelStore).rows
        let inTables = try [followerStore, floorStore].map { store in
            try store.app.read { try Int64.fetchOne($0, sql: "SELECT count(*) FROM events") } ?? 0
        }
        guard Set(written).count == 1, inLog == written[0], pending == 0, inTables.allSatisfy({ $0 == written[0] }),
              Set(figures.map(\.events)).count == 1 else {
            throw BenchmarkError("\(name): \(written[0]) events written a side, but \(inLog) records in the log (\(pending) left in the outbox) "
                + "and \(inTables.map(String.init).joined(separator: ", ")) rows in the baselines' tables")
        }
        try log.close()

        let runnel = figures[Side.runnel.rawValue]
        let follower = figures[Side.follower.rawValue]
        let floor = figures[Side.floor.rawValue]
        let runnelLatency = runnel.latency.summary
        let followerLatency = follower.latency.summary
        let floorLatency = floor.latency.summary
        let meetsGoal = runnelLatency.p99 <= 50_000
        let reachedRate = figures.allSatisfy { $0.rate >= 0.95 * Double(Self.rate) }
        func ms(_ microseconds: Double) -> String { FigureFormat.display(microseconds / 1000) }
        func triple(_ latency: LatencySummary) -> String { "\(ms(latency.p50))/\(ms(latency.p99))/\(ms(latency.max))" }
        var detail = [
            Figure("target_events_per_s", Self.rate),
            Figure("events_per_transaction", Self.eventsPerTransaction),
            Figure("events_per_side", runnel.events),
        ]
        for (label, side) in [("runnel", runnel), ("follower", follower), ("floor", floor)] {
            let latency = side.latency.summary
            let commits = side.commits.summary
            detail += [
                Figure("\(label)_p50_ms", latency.p50 / 1000), Figure("\(label)_p99_ms", latency.p99 / 1000), Figure("\(label)_max_ms", latency.max / 1000),
                Figure("\(label)_events_per_s", side.rate),
                Figure("\(label)_commit_p50_us", commits.p50), Figure("\(label)_commit_p99_us", commits.p99),
                Figure("\(label)_observer_poll_p99_us", side.polls.summary.p99),
            ]
        }
        detail += [Figure("rounds", size.rounds), Figure("round_seconds", size.roundSeconds)]
        return SideBySideMeasurement(
            runnel: runnelLatency.p99 / 1000,
            baseline: followerLatency.p99 / 1000,
            runnelLatency: runnelLatency,
            baselineLatency: followerLatency,
            goals: [Goal("p99 ≤ 50 ms", met: meetsGoal), Goal("target rate reached", met: reachedRate)],
            detail: detail,
            note: "latencies commit → visible in the view, p50/p99/max ms: runnel \(triple(runnelLatency))"
                + ", hand-rolled follower (baseline) \(triple(followerLatency)), "
                + "trigger in the writer's transaction (floor) \(triple(floorLatency)); "
                + "\(size.rounds) rounds × \(FigureFormat.display(size.roundSeconds)) s a side aiming at \(Self.rate) events/s, "
                + "\(Self.eventsPerTransaction) events per fsynced transaction (achieved: runnel \(FigureFormat.display(runnel.rate)), "
                + "follower \(FigureFormat.display(follower.rate)), floor \(FigureFormat.display(floor.rate))\(reachedRate ? "" : ": target not reached")); "
                + "commit p50 \(FigureFormat.display(runnel.commits.summary.p50))/\(FigureFormat.display(follower.commits.summary.p50))/"
                + "\(FigureFormat.display(floor.commits.summary.p50)) µs; observer polls every \(Self.observerInterval) µs")
    }

    /// The baselines' writer: the same JSON into a plain table, in one transaction.
    private static func insert(_ seqs: Range<Int64>, into app: DatabasePool) throws {
        try app.write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO events (payload) VALUES (?)")
            for seq in seqs { try insert.execute(arguments: [try NearlineEvent(seq: seq).json()]) }
        }
    }

    /// Runs the writer on this thread while the observer (and the followers) run beside it; then
    /// waits for the observer to see every event and stops the followers.
    /// - Returns: How long the writer took.
    static func session(_ probe: VisibilityProbe, observer: BackgroundThread, stoppers: [() throws -> Void],
                                write: () throws -> Duration) throws -> Duration {
        let written = Result { try write() }
        if case .failure = written { probe.cancel() }
        let observed = Result { try observer.join() }
        let stopped = stoppers.map { stop in Result { try stop() } }
        let span = try written.get()
        // A follower that failed is why the observer gave up: report it first.
        for result in stopped { try result.get() }
        try observed.get()
        return span
    }
}
