import Foundation
import Metrics

/// A pipeline runner's metrics (`docs/metrics.md`): made once per runner, with the pipeline's
/// name as their only dimension, and fed once per committed batch, never per record.
struct PipelineMetrics {
    private let records: Counter
    private let batches: Counter
    private let deadLetters: Counter
    private let lateEvents: Counter
    private let lagEvents: Gauge
    private let lagMilliseconds: Gauge
    private let batchDuration: Metrics.Timer
    private let lastCommit: Gauge

    init(pipeline: String) {
        let dimensions = [("pipeline", pipeline)]
        records = Counter(label: "runnel_pipeline_records_total", dimensions: dimensions)
        batches = Counter(label: "runnel_pipeline_batches_total", dimensions: dimensions)
        deadLetters = Counter(label: "runnel_pipeline_dead_letters_total", dimensions: dimensions)
        lateEvents = Counter(label: "runnel_pipeline_late_events_total", dimensions: dimensions)
        lagEvents = Gauge(label: "runnel_pipeline_lag_events", dimensions: dimensions)
        lagMilliseconds = Gauge(label: "runnel_pipeline_lag_milliseconds", dimensions: dimensions)
        batchDuration = Metrics.Timer(label: "runnel_pipeline_batch_duration_seconds", dimensions: dimensions)
        lastCommit = Gauge(label: "runnel_pipeline_last_commit_timestamp_seconds", dimensions: dimensions)
    }

    /// Counts what a transaction wrote, once it committed (a rolled-back batch counts nothing).
    /// - Parameters:
    ///   - records: Records the batch read.
    ///   - deadLetters: Rows it wrote to `runnel_pipeline_dead_letters`.
    ///   - lateEvents: Rows it wrote to `runnel_pipeline_late_events`.
    ///   - lag: The lag the commit recorded in `runnel_pipelines`.
    ///   - committedAt: When it committed.
    func committed(records: Int, deadLetters: Int, lateEvents: Int, lag: (events: Int64, milliseconds: Int64), at committedAt: Date) {
        self.records.increment(by: records)
        batches.increment()
        self.deadLetters.increment(by: deadLetters)
        self.lateEvents.increment(by: lateEvents)
        lagEvents.record(lag.events)
        lagMilliseconds.record(lag.milliseconds)
        lastCommit.record(committedAt.timeIntervalSince1970)
    }

    /// Records how long a batch took, from its first read to its commit.
    func batchTook(_ duration: Duration) {
        batchDuration.record(duration: duration)
    }
}
