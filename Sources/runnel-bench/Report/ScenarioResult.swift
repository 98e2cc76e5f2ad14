/// A scenario's measurement set against its goal.
struct ScenarioResult: Sendable {
    /// The scenario's name.
    let scenario: String
    /// The unit of ``runnel`` and ``baseline``.
    let unit: String
    /// The ratio to reach.
    let goal: Double
    /// What was measured.
    let measurement: SideBySideMeasurement
    /// How Runnel compares with the baseline, written so that more is better: Runnel's figure
    /// over the baseline's for throughputs, the inverse for latencies and durations.
    let ratio: Double

    /// Sets a measurement against its scenario's goal.
    init(_ scenario: some Scenario, _ measurement: SideBySideMeasurement) {
        self.scenario = scenario.name
        unit = scenario.unit
        goal = scenario.goal
        self.measurement = measurement
        let (better, worse) = scenario.direction == .higherIsBetter
            ? (measurement.runnel, measurement.baseline)
            : (measurement.baseline, measurement.runnel)
        ratio = worse > 0 ? better / worse : .infinity
    }

    /// Runnel's figure.
    var runnel: Double { measurement.runnel }
    /// The baseline's figure.
    var baseline: Double { measurement.baseline }
    /// Whether the ratio reaches the goal.
    var met: Bool { ratio >= goal }

    /// The latency percentiles, then the scenario's own figures: the `detail` object.
    var detail: [Figure] {
        var figures: [Figure] = []
        for (side, latency) in [("runnel", measurement.runnelLatency), ("baseline", measurement.baselineLatency)] {
            guard let latency else { continue }
            figures += [Figure("\(side)_p50_us", latency.p50), Figure("\(side)_p99_us", latency.p99),
                        Figure("\(side)_max_us", latency.max)]
        }
        return figures + measurement.detail
    }
}
