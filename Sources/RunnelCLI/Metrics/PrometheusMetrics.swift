import Foundation
import Metrics
import Prometheus

/// The Prometheus backend of swift-metrics for a `runnel` process: the library records its
/// metrics through swift-metrics (`docs/metrics.md`) and never picks a backend; the command
/// line does, here, and the dashboard server serves ``exposition()`` at `/metrics`.
///
/// ```swift
/// let metrics = PrometheusMetrics.bootstrap()   // once per process; later calls return it again
/// …                                              // runners made from now on record into it
/// let body = metrics.exposition()                // the text format, for GET /metrics
/// ```
///
/// Metrics are bound to a backend when they are made, and runners make theirs when they are
/// created: bootstrap before creating any runner whose metrics should be served.
package final class PrometheusMetrics: Sendable {
    /// Where the metrics live; ``exposition()`` renders it.
    package let registry: PrometheusCollectorRegistry
    /// The swift-metrics factory over ``registry``, with Runnel's histogram buckets.
    package let factory: PrometheusMetricsFactory

    /// The `Content-Type` of ``exposition()``: Prometheus's text format, version 0.0.4.
    package static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// A backend with a registry of its own, not bootstrapped: ``bootstrap()`` makes the
    /// process's; ``recording(_:)`` binds one to a task (tests that need counts of their own).
    package init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.batchBuckets
        factory.durationHistogramBuckets = [
            "runnel_pipeline_batch_duration_seconds": Self.batchBuckets,
            "runnel_kv_build_duration_seconds": Self.buildBuckets,
            "runnel_schedule_run_duration_seconds": Self.jobBuckets,
        ]
        self.factory = factory
    }

    /// The process's backend. The first call, from any thread, bootstraps `MetricsSystem` with
    /// it; every later call returns the same one, so any command (or test) may call it.
    ///
    /// An application that bootstraps swift-metrics itself must not call it: swift-metrics
    /// allows one bootstrap per process.
    @discardableResult
    package static func bootstrap() -> PrometheusMetrics {
        shared
    }

    /// The process's backend as ``bootstrap()`` makes it, unless the process already has
    /// another: an application that embeds the command line and bootstrapped swift-metrics with
    /// its own backend gets nil (and `runnel up` serves no `/metrics`) instead of a crash.
    package static func bootstrapUnlessTaken() -> PrometheusMetrics? {
        let taken = bootstrapLock.withLock { !bootstrapped && !(MetricsSystem.factory is NOOPMetricsHandler) }
        return taken ? nil : shared
    }

    /// Made, and bootstrapped, once: a static's initialiser runs exactly once, thread-safely.
    private static let shared: PrometheusMetrics = {
        let metrics = PrometheusMetrics()
        MetricsSystem.bootstrap(metrics.factory)
        bootstrapLock.withLock { bootstrapped = true }
        return metrics
    }()

    private static let bootstrapLock = NSLock()
    // Guarded by `bootstrapLock`.
    nonisolated(unsafe) private static var bootstrapped = false

    /// Runs `body` with the metrics it makes (every runner it creates) recorded here instead of
    /// in the process's backend: a task-local swift-metrics factory, so work running beside it
    /// in the same process counts elsewhere.
    /// - Parameter body: The work, for example an in-process `runnel` command.
    package nonisolated(nonsending) func recording<Result, Failure: Error>(
        _ body: nonisolated(nonsending) () async throws(Failure) -> Result
    ) async throws(Failure) -> Result {
        try await withMetricsFactory(factory, body)
    }

    /// Every metric in Prometheus's text exposition format, for a scrape of `/metrics`.
    package func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    /// ``exposition()`` as text.
    package var expositionText: String {
        String(decoding: exposition(), as: UTF8.self)
    }

    // MARK: - Buckets

    /// A pipeline batch (up to 100,000 records in one transaction), and any other duration
    /// without buckets of its own: 1 ms to a minute.
    static let batchBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2_500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    /// A KV store version: every entry read, written, fsynced and switched in: 10 ms to 5 minutes.
    static let buildBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2_500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120), .seconds(300),
    ]

    /// A scheduled job (a pipeline run, a publish, a report): 100 ms to an hour.
    static let jobBuckets: [Duration] = [
        .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        .seconds(300), .seconds(600), .seconds(1_800), .seconds(3_600),
    ]
}
