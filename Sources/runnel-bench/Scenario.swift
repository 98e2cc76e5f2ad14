/// One side-by-side measurement: Runnel doing some work, and a baseline doing the same work
/// without it (plain SQLite, plain file writes, `JSONDecoder`…), in the same process and run.
///
/// To add a scenario, write a type conforming to this protocol in `Scenarios/` and list it in
/// ``RunnelBench/scenarios``.
protocol Scenario: Sendable {
    /// The name given on the command line, for example `outbox-overhead`.
    var name: String { get }
    /// One line saying what is compared, shown in `--help`.
    var summary: String { get }
    /// The unit of both figures, for example `tx/s`.
    var unit: String { get }
    /// Whether a larger figure is better (throughputs) or a smaller one (latencies, times).
    var direction: Direction { get }
    /// The ratio to reach, written so that more is better (see ``ScenarioResult/ratio``): 0.8 for
    /// "adds at most 25% time", 10 for "ten times as fast".
    var goal: Double { get }

    /// Runs the scenario and its baseline.
    /// - Parameter quick: Whether to do a smaller run (all of `--quick` must finish in a minute).
    /// - Throws: When setting up fails, or when the two sides did not do the same work.
    func run(quick: Bool) throws -> SideBySideMeasurement
}

extension Scenario {
    var direction: Direction { .higherIsBetter }
}

/// Which way a scenario's figures improve.
enum Direction: Sendable {
    /// Throughputs: the ratio is Runnel's figure over the baseline's.
    case higherIsBetter
    /// Latencies and durations: the ratio is the baseline's figure over Runnel's.
    case lowerIsBetter
}

/// A scenario could not produce a trustworthy figure.
struct BenchmarkError: Error, CustomStringConvertible {
    /// What went wrong, naming the scenario.
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
