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
    /// The scenario's goals besides its ratio: absolute figures (rows/s, p99 limits) and
    /// preconditions (the target rate was reached). The row is met only when all of them are.
    var goals: [Goal] = []
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

/// One goal of a scenario besides its ratio, and whether this run met it.
struct Goal: Sendable {
    /// What is asked, as a person reads it: `≥ 500K events/s`, `p99 ≤ 10 ms`.
    var name: String
    var met: Bool

    init(_ name: String, met: Bool) {
        self.name = name
        self.met = met
    }

    /// A `snake_case` ASCII form of the name for JSON: `≥ 500K events/s` → `goal_500k_events_per_s`.
    var key: String {
        let words = name.lowercased()
            .replacing("≥", with: " ").replacing("≤", with: " ").replacing("/", with: " per ").replacing("×", with: "x").replacing("µ", with: "u")
            .split(whereSeparator: { !($0.isASCII && ($0.isLetter || $0.isNumber)) && $0 != "." })
        return "goal_" + words.joined(separator: "_").replacing(".", with: "_")
    }
}

/// Percentiles of a latency distribution, in microseconds.
struct LatencySummary: Sendable {
    var p50: Double
    var p99: Double
    var max: Double
}
