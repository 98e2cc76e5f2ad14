import Metrics

/// A saga coordinator's metrics (`docs/metrics.md`): made once per coordinator, with the saga's
/// name as their only dimension, and fed once per committed batch.
struct SagaMetrics {
    private let records: Counter
    private let started: Counter
    private let completed: Counter
    private let compensated: Counter
    private let failed: Counter
    private let timeouts: Counter
    private let commandsSent: Counter
    private let compensationsSent: Counter
    private let deadLetters: Counter
    private let lagEvents: Gauge

    init(saga: String) {
        let dimensions = [("saga", saga)]
        records = Counter(label: "runnel_saga_records_total", dimensions: dimensions)
        started = Counter(label: "runnel_saga_started_total", dimensions: dimensions)
        completed = Counter(label: "runnel_saga_completed_total", dimensions: dimensions)
        compensated = Counter(label: "runnel_saga_compensated_total", dimensions: dimensions)
        failed = Counter(label: "runnel_saga_failed_total", dimensions: dimensions)
        timeouts = Counter(label: "runnel_saga_timeouts_total", dimensions: dimensions)
        commandsSent = Counter(label: "runnel_saga_commands_sent_total", dimensions: dimensions)
        compensationsSent = Counter(label: "runnel_saga_compensations_sent_total", dimensions: dimensions)
        deadLetters = Counter(label: "runnel_saga_dead_letters_total", dimensions: dimensions)
        lagEvents = Gauge(label: "runnel_saga_lag_events", dimensions: dimensions)
    }

    /// Counts a batch once its transaction committed (a rolled-back batch counts nothing).
    /// - Parameters:
    ///   - batch: What the batch did.
    ///   - lag: Records left between the new offsets and the log's end, as last read.
    func committed(_ batch: SagaCoordinator.Summary, lag: Int64) {
        records.increment(by: batch.records)
        started.increment(by: batch.started)
        completed.increment(by: batch.completed)
        compensated.increment(by: batch.compensated)
        failed.increment(by: batch.failed)
        timeouts.increment(by: batch.timeouts)
        commandsSent.increment(by: batch.commandsSent)
        compensationsSent.increment(by: batch.compensationsSent)
        deadLetters.increment(by: batch.deadLetters)
        lagEvents.record(lag)
    }
}
