import Metrics

/// A KV store's publishing metrics (`docs/metrics.md`), with the store's name as their only
/// dimension: made once by whoever publishes it (a pipeline runner for each store it writes,
/// `runnel kv publish`, a scheduled publish) and fed once per published version.
package struct KVStoreMetrics: Sendable {
    private let publishes: Counter
    private let version: Gauge
    private let keys: Gauge
    private let buildDuration: Metrics.Timer

    /// The metrics of store `store`.
    package init(store: String) {
        let dimensions = [("store", store)]
        publishes = Counter(label: "runnel_kv_publishes_total", dimensions: dimensions)
        version = Gauge(label: "runnel_kv_version", dimensions: dimensions)
        keys = Gauge(label: "runnel_kv_keys", dimensions: dimensions)
        buildDuration = Metrics.Timer(label: "runnel_kv_build_duration_seconds", dimensions: dimensions)
    }

    /// Counts a version once it is current.
    /// - Parameters:
    ///   - manifest: The new current version's manifest.
    ///   - duration: How long reading the entries and building the version took.
    func published(_ manifest: KVManifest, took duration: Duration) {
        publishes.increment()
        version.record(manifest.version)
        keys.record(manifest.keyCount)
        buildDuration.record(duration: duration)
    }
}
