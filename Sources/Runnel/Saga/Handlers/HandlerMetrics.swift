import Metrics

/// A handler runner's metrics (`docs/metrics.md`): made once per runner, with the handler's
/// name as their only dimension, and fed once per committed batch.
struct HandlerMetrics {
    private let records: Counter
    private let handled: Counter
    private let duplicates: Counter
    private let deadLetters: Counter
    private let lagEvents: Gauge

    init(handler: String) {
        let dimensions = [("handler", handler)]
        records = Counter(label: "runnel_handler_records_total", dimensions: dimensions)
        handled = Counter(label: "runnel_handler_handled_total", dimensions: dimensions)
        duplicates = Counter(label: "runnel_handler_duplicates_total", dimensions: dimensions)
        deadLetters = Counter(label: "runnel_handler_dead_letters_total", dimensions: dimensions)
        lagEvents = Gauge(label: "runnel_handler_lag_events", dimensions: dimensions)
    }

    /// Counts a batch once its transaction committed (a rolled-back batch counts nothing).
    /// - Parameters:
    ///   - batch: What the batch did.
    ///   - lag: Records left between the new offsets and the log's end, as last read.
    func committed(_ batch: HandlerRunner.Summary, lag: Int64) {
        records.increment(by: batch.records)
        handled.increment(by: batch.handled)
        duplicates.increment(by: batch.duplicates)
        deadLetters.increment(by: batch.deadLetters)
        lagEvents.record(lag)
    }
}
