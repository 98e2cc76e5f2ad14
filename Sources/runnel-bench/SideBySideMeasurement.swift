/// What one run of a scenario measured: a figure for each side, in the scenario's unit, and
/// whatever else helps to read them.
struct SideBySideMeasurement: Sendable {
    /// Runnel's figure.
    var runnel: Double
    /// The baseline's figure.
    var baseline: Double
    /// Runnel's per-operation latency, when the scenario times single operations.
    var runnelLatency: LatencySummary?
    /// The baseline's per-operation latency.
    var baselineLatency: LatencySummary?
    /// Further figures (operation counts, sizes), in the order they are printed.
    var detail: [Figure] = []
    /// A short phrase for the note under the table, for example "6 rounds × 200 tx a side".
    var note: String?
}

/// A named number, for the `detail` object of JSON output and the note under the table.
struct Figure: Sendable {
    /// A `snake_case` name, with its unit as a suffix where it has one (`db_kib`).
    var name: String
    var value: Double

    init(_ name: String, _ value: Double) {
        self.name = name
        self.value = value
    }

    init(_ name: String, _ value: Int) {
        self.init(name, Double(value))
    }
}

/// Percentiles of a latency distribution, in microseconds.
struct LatencySummary: Sendable {
    var p50: Double
    var p99: Double
    var max: Double
}
