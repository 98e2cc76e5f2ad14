import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelCLI
import RunnelTesting
import Testing

/// The Prometheus backend the command line bootstraps, and the library's metrics as a scrape
/// of `/metrics` shows them, checked against what the work committed (`docs/metrics.md`).
///
/// The process's backend is shared by every test running beside these, so the tests that
/// check exact counts record into a backend of their own (``PrometheusMetrics/recording(_:)``);
/// the bootstrap test compares deltas of a series no other test touches.
@Suite struct MetricsTests {
    /// The exposition's format: every name valid, every sample under a `# TYPE`, every label
    /// name valid; returns it parsed.
    private func scrape(_ metrics: PrometheusMetrics) throws -> PrometheusText {
        let text = metrics.expositionText
        let scraped = try PrometheusText(text)
        #expect(!scraped.samples.isEmpty)
        for sample in scraped.samples {
            #expect(sample.name.wholeMatch(of: /[a-z_:][a-z0-9_:]*/) != nil, "invalid metric name \(sample.name)")
            #expect(scraped.family(of: sample) != nil, "\(sample.name) has no # TYPE line")
            for label in sample.labels.keys {
                #expect(label.wholeMatch(of: /[a-zA-Z_][a-zA-Z0-9_]*/) != nil, "invalid label name \(label) on \(sample.name)")
            }
        }
        for name in scraped.types.keys {
            #expect(name.wholeMatch(of: /[a-z_:][a-z0-9_:]*/) != nil, "invalid family name \(name)")
        }
        return scraped
    }

    /// The numbers a line of `demo`'s output holds after `prefix`, in order.
    private func numbers(in line: Substring, after prefix: String = "") -> [Int] {
        line.dropFirst(prefix.count).matches(of: /\d+/).compactMap { Int($0.output) }
    }

    // MARK: - Bootstrap

    @Test func bootstrapHappensOnceAndRecordsWhatRunnersMakeAfterIt() async throws {
        // Callers at once, as several commands or tests would: one backend for all.
        let backends = await withTaskGroup(of: PrometheusMetrics.self) { group in
            for _ in 0..<8 { group.addTask { PrometheusMetrics.bootstrap() } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let metrics = try #require(backends.first)
        #expect(backends.allSatisfy { $0 === metrics })
        #expect(PrometheusMetrics().registry !== metrics.registry)

        // A schedule entry no other test has: its series moves only with this test's runs.
        let entry = "metrics-bootstrap-probe"
        let catalog = Catalog(name: "metrics", schedules: [
            Schedule(entry, cron: "* * * * *", missed: .runAll(max: 2), overlap: .queue, job: .run("does nothing") { _ in }),
        ])
        let temporary = try TemporaryHome(label: "metrics-bootstrap")
        let home = temporary.home.url.path
        let start = Self.minuteAndAHalfAgo(minutes: 5)
        #expect(await runnel(["schedule", "tick", "--at", start.iso8601(), "--home", home], catalog: catalog).status == 0)
        let before = try scrape(metrics)
        let tick = await runnel(["schedule", "tick", "--at", start.addingTimeInterval(240).iso8601(), "--home", home], catalog: catalog)
        #expect(tick.status == 0, "\(tick.error)")
        let after = try scrape(metrics)

        let history = try Scheduler.history(of: try Store.open(temporary.home), entry: entry)
        let succeeded = history.filter { $0.outcome == .succeeded }.count
        let skipped = history.filter { $0.outcome == .skipped }.count
        #expect(succeeded >= 1 && skipped >= 1, "the tick should both run and skip: \(history.map(\.outcome))")
        for (outcome, expected) in [("succeeded", succeeded), ("skipped", skipped), ("failed", 0)] {
            let labels = ["entry": entry, "outcome": outcome]
            #expect(after.count("runnel_schedule_runs_total", labels) - before.count("runnel_schedule_runs_total", labels) == expected, "\(outcome)")
        }
        #expect(after.types["runnel_schedule_runs_total"] == "counter")
        #expect(after.types["runnel_schedule_run_duration_seconds"] == "histogram")
    }

    // MARK: - The demo, counted

    @Test func demoIsCountedAsItCommitted() async throws {
        let metrics = PrometheusMetrics()
        let temporary = try TemporaryHome(label: "metrics-demo")
        let home = temporary.home.url.path
        let began = Date()
        let demo = await metrics.recording { await runnel("demo", "--home", home) }
        #expect(demo.status == 0, "\(demo.error)")
        let ended = Date()
        let scraped = try scrape(metrics)
        let lines = demo.outputLines
        let store = try Store.open(temporary.home)

        // The relay: every row each relay pass said it moved.
        let relayed = lines.filter { $0.hasPrefix("Relayed ") }.map { numbers(in: $0)[0] }
            + lines.filter { $0.contains("commands and replies relayed") }.map { numbers(in: $0)[1] }
        #expect(relayed.count >= 3)
        #expect(scraped.count("runnel_relay_rows_total") == relayed.reduce(0, +))
        let outboxDeadLetters = try DatabaseRole.allCases.reduce(0) { total, role in
            total + (try store.database(role).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox_dead_letters") } ?? 0)
        }
        #expect(scraped.count("runnel_relay_dead_letters_total") == outboxDeadLetters)
        #expect(scraped.types["runnel_relay_rows_total"] == "counter")

        // Pipelines: what each committed, as its row in runnel_pipelines has it.
        for pipeline in SampleCatalog.catalog.pipelines {
            let labels = ["pipeline": pipeline.name]
            let row = try #require(try store.derived.read { db in
                try Row.fetchOne(db, sql: "SELECT events_in, batches, lag_events, lag_ms FROM runnel_pipelines WHERE name = ?", arguments: [pipeline.name])
            })
            let prefix = "\(pipeline.name) v\(pipeline.version): "
            let printed = try #require(lines.first { $0.hasPrefix(prefix) })
            let (records, batches) = (numbers(in: printed, after: prefix)[0], numbers(in: printed, after: prefix)[1])
            #expect(records > 0, "\(pipeline.name) read nothing: \(printed)")
            #expect(scraped.count("runnel_pipeline_records_total", labels) == records, "\(pipeline.name)")
            #expect(scraped.count("runnel_pipeline_records_total", labels) == row["events_in"] as Int, "\(pipeline.name)")
            #expect(scraped.count("runnel_pipeline_batches_total", labels) == row["batches"] as Int, "\(pipeline.name)")
            #expect(scraped.value("runnel_pipeline_lag_events", labels) == Double(row["lag_events"] as Int64), "\(pipeline.name)")
            #expect(scraped.value("runnel_pipeline_lag_milliseconds", labels) == Double(row["lag_ms"] as Int64), "\(pipeline.name)")
            let (deadLetters, late) = try await store.derived.read { db in
                (try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_pipeline_dead_letters WHERE pipeline = ?", arguments: [pipeline.name]) ?? 0,
                 try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_pipeline_late_events WHERE pipeline = ?", arguments: [pipeline.name]) ?? 0)
            }
            #expect(scraped.count("runnel_pipeline_dead_letters_total", labels) == deadLetters, "\(pipeline.name)")
            #expect(scraped.count("runnel_pipeline_late_events_total", labels) == late, "\(pipeline.name)")
            #expect(scraped.count("runnel_pipeline_batch_duration_seconds_count", labels) == batches, "\(pipeline.name)")
            let committed = try #require(scraped.value("runnel_pipeline_last_commit_timestamp_seconds", labels))
            #expect((began.timeIntervalSince1970.rounded(.down)...ended.timeIntervalSince1970.rounded(.up)).contains(committed))
        }
        #expect(scraped.types["runnel_pipeline_batch_duration_seconds"] == "histogram")
        #expect(scraped.types["runnel_pipeline_lag_events"] == "gauge")

        // Handlers: what each committed, as runnel_consumers has it.
        for handler in SampleCatalog.catalog.handlers {
            let labels = ["handler": handler.name]
            let row = try #require(try store.app.read { db in
                try Row.fetchOne(db, sql: "SELECT records, handled, duplicates, dead_letters FROM runnel_consumers WHERE consumer = ?",
                                 arguments: ["handler:\(handler.name)"])
            })
            #expect(row["records"] as Int > 0, "\(handler.name)")
            #expect(scraped.count("runnel_handler_records_total", labels) == row["records"] as Int, "\(handler.name)")
            #expect(scraped.count("runnel_handler_handled_total", labels) == row["handled"] as Int, "\(handler.name)")
            #expect(scraped.count("runnel_handler_duplicates_total", labels) == row["duplicates"] as Int, "\(handler.name)")
            #expect(scraped.count("runnel_handler_dead_letters_total", labels) == row["dead_letters"] as Int, "\(handler.name)")
            // The demo stops once a round reads nothing new: every handler read to the end.
            #expect(scraped.value("runnel_handler_lag_events", labels) == 0, "\(handler.name)")
        }

        // Sagas: the ends the demo printed, and every instance started.
        for saga in SampleCatalog.catalog.sagas {
            let labels = ["saga": saga.name]
            let prefix = "   \(saga.name): "
            let printed = try #require(lines.first { $0.hasPrefix(prefix) })
            let (completed, compensated) = (numbers(in: printed, after: prefix)[0], numbers(in: printed, after: prefix)[1])
            let states = try await store.app.read { try SagaRecords.counts(of: saga.name, in: $0) }
            #expect(completed + compensated > 0, "\(printed)")
            #expect(scraped.count("runnel_saga_completed_total", labels) == completed, "\(saga.name)")
            #expect(scraped.count("runnel_saga_compensated_total", labels) == compensated, "\(saga.name)")
            #expect(scraped.count("runnel_saga_failed_total", labels) == states[.failed, default: 0], "\(saga.name)")
            #expect(scraped.count("runnel_saga_started_total", labels) == states.values.reduce(0, +), "\(saga.name)")
            #expect(scraped.count("runnel_saga_commands_sent_total", labels) >= states.values.reduce(0, +), "each instance sends a command")
        }

        // KV stores: one publish per version on disk, the current one's version and keys.
        let folders = try KVStoreFolder.all(in: temporary.home)
        #expect(!folders.isEmpty)
        for folder in folders {
            let labels = ["store": folder.name]
            let current = try #require(try folder.currentVersion())
            #expect(scraped.count("runnel_kv_publishes_total", labels) == (try folder.versionNumbers()).count, "\(folder.name)")
            #expect(scraped.value("runnel_kv_version", labels) == Double(current), "\(folder.name)")
            #expect(scraped.value("runnel_kv_keys", labels) == Double(try folder.manifest(of: current).keyCount), "\(folder.name)")
            #expect(scraped.count("runnel_kv_build_duration_seconds_count", labels) == (try folder.versionNumbers()).count, "\(folder.name)")
        }

        // Tickets: the notifications and the report the demo said it made.
        let notified = try #require(lines.first { $0.contains("notifications collected") })
        #expect(scraped.count("runnel_notifications_collected_total") == numbers(in: notified)[0])
        #expect(scraped.count("runnel_notifications_delivered_total", ["channel": "file"]) == numbers(in: notified)[1])
        #expect(lines.contains("-- exception report"))
        #expect(scraped.count("runnel_reports_written_total") == 1)
    }

    @Test func aSecondDemoCommitsNothingAndCountsNothing() async throws {
        let metrics = PrometheusMetrics()
        let temporary = try TemporaryHome(label: "metrics-again")
        let home = temporary.home.url.path
        #expect(await metrics.recording { await runnel("demo", "--home", home) }.status == 0)
        let before = try scrape(metrics)
        #expect(await metrics.recording { await runnel("demo", "--home", home) }.status == 0)
        let after = try scrape(metrics)
        let counted = ["runnel_relay_rows_total", "runnel_pipeline_records_total", "runnel_pipeline_dead_letters_total",
                       "runnel_handler_records_total", "runnel_saga_started_total", "runnel_saga_completed_total", "runnel_kv_publishes_total"]
        let series = before.samples.filter { counted.contains($0.name) }
        #expect(series.count >= counted.count)
        for sample in series {
            #expect(after.value(sample.name, sample.labels) == sample.value, "\(sample.name) \(sample.labels) moved with nothing new")
        }
        // The second demo did work: it wrote the hour's report again.
        #expect(after.count("runnel_reports_written_total") == 2)
    }

    @Test func aBatchThatIsNotCommittedIsNotCounted() async throws {
        let metrics = PrometheusMetrics()
        let temporary = try TemporaryHome(label: "metrics-rollback")
        let store = try temporary.openStoreWithSampleData(SampleCatalog.catalog)
        let pipeline = try #require(SampleCatalog.catalog.pipelines.first)
        let labels = ["pipeline": pipeline.name]
        // Read and thrown away, as a crash before the commit would.
        try await metrics.recording {
            let runner = try PipelineRunner(pipeline: pipeline, store: store)
            #expect(try runner.runBatch(committing: false).records > 0)
        }
        #expect(try scrape(metrics).count("runnel_pipeline_records_total", labels) == 0)
        #expect(try scrape(metrics).count("runnel_pipeline_batches_total", labels) == 0)
        // The same records, committed by the next runner, are counted once.
        let summary = try await metrics.recording { try PipelineRunner(pipeline: pipeline, store: store).runToEnd() }
        #expect(summary.records > 0)
        #expect(try scrape(metrics).count("runnel_pipeline_records_total", labels) == summary.records)
    }

    // MARK: - Schedules

    @Test func scheduledRunsAreCountedByEntryAndOutcome() async throws {
        struct Refused: Error {}
        let metrics = PrometheusMetrics()
        let catalog = Catalog(name: "metrics", schedules: [
            Schedule("keeps-up", cron: "* * * * *", missed: .runAll(max: 2), overlap: .queue, job: .run("does nothing") { _ in }),
            Schedule("refuses", cron: "* * * * *", missed: .skip, job: .run("throws") { _ in throw Refused() }),
        ])
        let temporary = try TemporaryHome(label: "metrics-schedule")
        let home = temporary.home.url.path
        let start = Self.minuteAndAHalfAgo(minutes: 10)
        for instant in [start, start.addingTimeInterval(540)] {
            let tick = await metrics.recording { await runnel(["schedule", "tick", "--at", instant.iso8601(), "--home", home], catalog: catalog) }
            #expect(tick.status == 0, "\(tick.error)")
        }
        let scraped = try scrape(metrics)
        let history = try Scheduler.history(of: try Store.open(temporary.home))
        #expect(Set(history.map(\.outcome)).isSuperset(of: [.succeeded, .failed, .skipped]), "\(history.map(\.outcome))")
        for schedule in catalog.schedules {
            let runs = history.filter { $0.entry == schedule.name }
            for outcome in ScheduleRunRecord.Outcome.allCases where ![.queued, .running, .abandoned].contains(outcome) {
                let expected = runs.filter { $0.outcome == outcome }.count
                #expect(scraped.count("runnel_schedule_runs_total", ["entry": schedule.name, "outcome": outcome.rawValue]) == expected,
                        "\(schedule.name) \(outcome)")
            }
            let ran = runs.filter { [.succeeded, .failed].contains($0.outcome) }.count
            #expect(scraped.count("runnel_schedule_run_duration_seconds_count", ["entry": schedule.name]) == ran, "\(schedule.name)")
        }
    }

    /// Half a minute past a whole minute, `minutes` and a half ago: a first tick there fires
    /// nothing (an entry's first tick owes nothing before it), and a later one in the past.
    private static func minuteAndAHalfAgo(minutes: Int) -> Date {
        let now = Date().timeIntervalSince1970
        return Date(timeIntervalSince1970: (now / 60).rounded(.down) * 60 - Double(minutes * 60) - 30)
    }
}
