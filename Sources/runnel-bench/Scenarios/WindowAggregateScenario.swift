import Foundation
import GRDB
import Runnel
import RunnelTesting

/// `window-aggregate`: a pipeline counting events and summing dwell time per member and
/// 5-minute tumbling window, run in batch mode over JSON events in the log, against SQLite doing
/// the same with `GROUP BY` and `json_extract` over the same JSON, set up as well as SQLite
/// can be for it.
///
/// The project's goals: at least 500K events/s on one core, and at least 1.3 times SQLite's rate.
///
/// Which set-up is best is measured, not assumed (``BaselineSetup``): before the rounds, each
/// runs the query once and the fastest becomes the baseline. On SQLite 3.40 the default (a
/// 2 MiB page cache, the sorter spilling sorted runs to temporary files, which stay in the page
/// cache) beats a 512 MiB cache with `temp_store = MEMORY` by about half: the in-memory sorter
/// and a large cache cost more than the spills they save. SQLite runs single-threaded
/// (its default `threads = 0`), as the pipeline does.
///
/// Beside it, not in the ratio, a second baseline shows what SQLite does when the JSON is
/// turned into columns first: a table with STORED generated columns (member, window start, dwell
/// time) and a covering index on them, whose ingest (copying the JSON in, extracting the
/// columns, building the index) is timed apart from its `GROUP BY` (which then walks the index
/// in order and sorts nothing). It runs in the untimed gap between rounds, once per counted round.
///
/// Before the rounds (not timed), N `ActivityRecorded` events of the sample network (10,000
/// members, times advancing 3 ms an event, so 5M events span about four hours) are appended to a
/// topic of one partition as the relay writes them: one batch per relay cycle of its default
/// size, key = member, JSON value as ``Outbox`` encodes it, event time as the timestamp, and the
/// relay's four headers. The same JSON goes into a plain SQLite table, `events (payload TEXT)`.
///
/// Runnel's side opens a ``PipelineRunner`` on the log and runs it to the end
/// (``PipelineRunner/runToEnd(progress:)``): every batch decodes its records into
/// ``BenchActivity`` — which declares only the three fields the pipeline uses, as a real
/// pipeline would, out of the payload's eight — keys them by member, updates the windows, and
/// commits the view rows, window state and offsets in one `derived.sqlite` transaction. The
/// baseline runs one `CREATE TABLE result AS SELECT … GROUP BY` (``baselineSQL``). A warm-up
/// round runs first and is not counted. Between rounds the pipeline's state and view and the
/// baseline's tables are dropped (not timed). After every round all answers are compared row
/// for row; a difference fails the scenario.
///
/// The records per pipeline batch default to the runner's default (100,000); `RUNNEL_BENCH_PIPELINE_BATCH` sets another.
struct WindowAggregateScenario: Scenario {
    let name = "window-aggregate"
    let summary = "windowed count+sum per member over JSON events in the log (pipeline in batch mode, one core) vs SQLite GROUP BY with json_extract over the same JSON"
    let unit = "events/s"
    let goal = 1.3
    /// The absolute goal, on one core.
    static let eventsPerSecondGoal = 500_000.0

    static let topic = "member-activity"
    static let eventType = "ActivityRecorded"
    static let viewName = "engagement"
    static let windowMilliseconds = TimeSpan.minutes(5).milliseconds

    /// How much one run does.
    struct Size {
        /// Events in the log and in the table.
        var events: Int
        /// Counted rounds, each running both sides over every event.
        var rounds: Int
    }

    /// The size of a quick or a full run.
    static func size(quick: Bool) -> Size {
        quick ? Size(events: 300_000, rounds: 2) : Size(events: 2_000_000, rounds: 4)
    }

    /// Records per pipeline batch (and `derived.sqlite` transaction).
    static var pipelineBatchSize: Int {
        ProcessInfo.processInfo.environment["RUNNEL_BENCH_PIPELINE_BATCH"].flatMap(Int.init).map { max(1, $0) } ?? PipelineRunner.Options().batchSize
    }

    /// The pipeline measured: the windowed count and sum of the README's pipeline example.
    static let pipeline = Pipeline("bench-window-aggregate", version: 1, description: "Events and dwell time per member per 5 minutes") {
        Source(topic, as: BenchActivity.self, type: eventType, time: \.occurredAt)
            .keyBy("member_id", \.memberId)
            .window(.tumbling(.minutes(5))) {
                Count("events")
                Sum("dwell_ms", \.dwellMs)
            }
            .into(ReadView(viewName, primaryKey: ["member_id", "window_start"]))
    }

    func run(quick: Bool) throws -> SideBySideMeasurement {
        let home = try TemporaryHome(label: "bench-window")
        return try withExtendedLifetime(home) {
            try measure(home: home, size: Self.size(quick: quick))
        }
    }

    /// What one side's rounds needed in memory.
    private struct MemoryFigures {
        /// The largest peak resident size of a round.
        var peakBytes = 0
        /// The largest growth of a round over the size it started at.
        var growthBytes = 0

        mutating func add(_ watch: PeakMemory) {
            peakBytes = max(peakBytes, watch.peakBytes)
            growthBytes = max(growthBytes, watch.peakBytes - watch.startBytes)
        }
    }

    private func measure(home: TemporaryHome, size: Size) throws -> SideBySideMeasurement {
        try ActivityGenerator.checkEncoding(count: 1_000)
        let store = try home.openStore()
        let baselineURL = home.folder.appendingPathComponent("baseline.sqlite")
        let filling = try Self.openBaseline(at: baselineURL, setup: BaselineSetup.all[0])
        try filling.write { db in try db.execute(sql: "CREATE TABLE events (payload TEXT NOT NULL)") }
        let relayBatch = OutboxRelay.Configuration().batchSize
        let writable = try Log.open(home.home.logURL)
        let input = try Self.fill(count: size.events, into: try writable.topic(Self.topic, creatingWith: TopicConfiguration()).partitions[0],
                                  baseline: filling, batchSize: relayBatch)
        let (setup, baseline, setupRates) = try Self.fastestBaseline(at: baselineURL)
        try writable.close()
        let log = try Log.openForReading(home.home.logURL)

        let batchSize = Self.pipelineBatchSize
        var runnelMemory = MemoryFigures()
        var baselineMemory = MemoryFigures()
        var pipelineBatches = 0
        var viewRows = 0
        var typed = TypedBaseline.Tally()
        let interleaving = Interleaving(rounds: size.rounds, warmUpRounds: 1)
        /// After a round: both answers checked, then the typed-table baseline run and checked
        /// against the same view.
        func afterRound(_ round: Int) throws {
            viewRows = try Self.checkSameAnswer(derived: home.home.derivedDatabaseURL, baseline: baselineURL, events: input.events)
            let run = try TypedBaseline.run(in: baseline)
            _ = try Self.checkSameAnswer(derived: home.home.derivedDatabaseURL, baseline: baselineURL, table: TypedBaseline.resultTable, events: input.events)
            if round >= interleaving.warmUpRounds { typed.add(run) }
        }
        let sides = try interleaving.run(
            input: { round in
                if round > 0 { try afterRound(round - 1) }
                // A fresh start for both sides: no view, no state, no result table, no WAL left
                // behind by the previous round.
                try PipelineRunner.dropState(of: Self.pipeline, in: store)
                try baseline.write { try $0.execute(sql: "DROP TABLE IF EXISTS result; " + TypedBaseline.dropSQL) }
                try store.derived.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
                try baseline.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
                return round
            },
            runnel: { _, tally in
                let memory = PeakMemory.start()
                let summary = try tally.time {
                    let runner = try PipelineRunner(pipeline: Self.pipeline, store: store, log: log, options: .init(batchSize: batchSize))
                    return try runner.runToEnd()
                }
                runnelMemory.add(memory)
                guard summary.records == input.events, summary.deadLetters == 0, summary.lateEvents == 0, summary.skipped == 0 else {
                    throw BenchmarkError("\(name): the pipeline read \(summary.records) of \(input.events) records "
                        + "(\(summary.deadLetters) dead letters, \(summary.lateEvents) late, \(summary.skipped) skipped)")
                }
                pipelineBatches = summary.batches
            },
            baseline: { _, tally in
                let memory = PeakMemory.start()
                try tally.time { try baseline.write { try $0.execute(sql: Self.baselineSQL) } }
                baselineMemory.add(memory)
            })
        try afterRound(interleaving.warmUpRounds + size.rounds - 1)

        let counted = Double(size.events * size.rounds)
        let setupNote = setupRates.map { "\($0.setup.name) \(FigureFormat.display(Double(input.events) / $0.took.seconds))" }.joined(separator: ", ")
        let runnelRate = counted / sides.runnel.elapsed.seconds
        let baselineRate = counted / sides.baseline.elapsed.seconds
        let meetsGoal = runnelRate >= Self.eventsPerSecondGoal
        let typedQueryRate = Double(input.events * typed.runs) / typed.query.seconds
        let typedTotalRate = Double(input.events * typed.runs) / (typed.query + typed.ingest).seconds
        let roundRatios = sides.roundRatios
        let mebibyte = Double(1 << 20)
        let payloadAverage = Double(input.payloadBytes) / Double(input.events)
        return SideBySideMeasurement(
            runnel: runnelRate,
            baseline: baselineRate,
            goals: [Goal("≥ 500K events/s", met: meetsGoal)],
            detail: [
                Figure("runnel_events_per_s", runnelRate),
                Figure("baseline_events_per_s", baselineRate),
                Figure("typed_query_events_per_s", typedQueryRate),
                Figure("typed_ingest_and_query_events_per_s", typedTotalRate),
                Figure("ratio_to_typed_query", runnelRate / typedQueryRate),
                Figure("events_per_side", input.events),
                Figure("rounds", size.rounds),
                Figure("members", ActivityGenerator.members),
                Figure("member_windows", viewRows),
                Figure("payload_bytes_avg", payloadAverage),
                Figure("log_bytes", input.logBytes),
                Figure("pipeline_batch_records", batchSize),
                Figure("pipeline_batches", pipelineBatches),
                Figure("log_batch_records", relayBatch),
                Figure("result_check_passed", 1),
                Figure("runnel_peak_rss_mib", Double(runnelMemory.peakBytes) / mebibyte),
                Figure("runnel_rss_growth_mib", Double(runnelMemory.growthBytes) / mebibyte),
                Figure("baseline_peak_rss_mib", Double(baselineMemory.peakBytes) / mebibyte),
                Figure("baseline_rss_growth_mib", Double(baselineMemory.growthBytes) / mebibyte),
                Figure("round_ratio_min", roundRatios.min),
                Figure("round_ratio_median", roundRatios.median),
                Figure("round_ratio_max", roundRatios.max),
            ],
            note: "\(size.rounds) rounds × \(input.events) events a side, \(FigureFormat.display(payloadAverage)) B JSON, "
                + "\(ActivityGenerator.members) members, \(viewRows) member windows (same answer on both sides: checked); "
                + "pipeline batches of \(batchSize) records (\(pipelineBatches) a run); "
                + "runnel \(FigureFormat.display(runnelRate)) events/s, SQLite json_extract \(FigureFormat.display(baselineRate)) events/s "
                + "(fastest set-up: \(setup.name); each once before the rounds, events/s: \(setupNote)); "
                + "typed table with a covering index: GROUP BY alone \(FigureFormat.display(typedQueryRate)) events/s "
                + "(runnel ×\(FigureFormat.displayRatio(runnelRate / typedQueryRate))), with its ingest \(FigureFormat.display(typedTotalRate)) events/s; peak RSS runnel \(FigureFormat.display(Double(runnelMemory.peakBytes) / mebibyte)) MiB "
                + "(+\(FigureFormat.display(Double(runnelMemory.growthBytes) / mebibyte)) over its start), "
                + "SQLite \(FigureFormat.display(Double(baselineMemory.peakBytes) / mebibyte)) MiB "
                + "(+\(FigureFormat.display(Double(baselineMemory.growthBytes) / mebibyte))); "
                + "round ratios \(FigureFormat.displayRatio(roundRatios.min))–\(FigureFormat.displayRatio(roundRatios.max))")
    }
}
