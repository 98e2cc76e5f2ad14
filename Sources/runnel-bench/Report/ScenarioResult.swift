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
    /// - Throws: When either figure is zero, negative or not finite: a ratio of infinity or zero
    ///   says the measurement failed, not that the goal was met.
    init(_ scenario: some Scenario, _ measurement: SideBySideMeasurement) throws {
        for (side, figure) in [("runnel", measurement.runnel), ("baseline", measurement.baseline)] where !(figure.isFinite && figure > 0) {
            throw BenchmarkError("\(scenario.name): the \(side) figure is \(figure) \(scenario.unit); a side that measured nothing gives no ratio")
        }
        self.scenario = scenario.name
        unit = scenario.unit
        goal = scenario.goal
        self.measurement = measurement
        let (better, worse) = scenario.direction == .higherIsBetter
            ? (measurement.runnel, measurement.baseline)
            : (measurement.baseline, measurement.runnel)
        ratio = better / worse
    }

    /// Runnel's figure.
    var runnel: Double { measurement.runnel }
    /// The baseline's figure.
    var baseline: Double { measurement.baseline }
    /// Whether the ratio reaches the goal and every other goal of the scenario is met.
    var met: Bool { ratio >= goal && measurement.goals.allSatisfy(\.met) }

    /// The goals this run missed, ratio first.
    var missed: [String] {
        (ratio >= goal ? [] : ["ratio"]) + measurement.goals.filter { !$0.met }.map(\.name)
    }

    /// The latency percentiles, then the scenario's own figures: the `detail` object.
    var detail: [Figure] {
        var figures: [Figure] = []
        for (side, latency) in [("runnel", measurement.runnelLatency), ("baseline", measurement.baselineLatency)] {
            guard let latency else { continue }
            figures += [Figure("\(side)_p50_us", latency.p50), Figure("\(side)_p99_us", latency.p99),
                        Figure("\(side)_max_us", latency.max)]
        }
        return figures + measurement.goals.map { Figure($0.key + "_met", $0.met ? 1 : 0) } + measurement.detail
    }
}
