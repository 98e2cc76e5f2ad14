/// Runs Runnel's side and the baseline's side of a scenario in alternating rounds, so that disk
/// and scheduler noise, cache warmth and thermal drift hit both sides alike.
///
/// The first counted round runs Runnel first, the next the baseline first, and so on (so give an
/// even number of rounds). Each round's input is made once, before either side runs, and handed
/// to both, so both do exactly the same work. Warm-up rounds (statement caches, page cache, file
/// growth) run the same way and are not counted.
///
/// ```swift
/// let sides = try Interleaving(rounds: 6, warmUpRounds: 1).run(
///     input: { round in makeBatch(round) },
///     runnel: { batch, tally in for item in batch { try tally.time { try runnelWrite(item) } } },
///     baseline: { batch, tally in for item in batch { try tally.time { try plainWrite(item) } } })
/// print(sides.runnel.rate, sides.baseline.rate)
/// ```
struct Interleaving {
    /// The rounds counted, each running both sides once; even, so each side goes first as often.
    var rounds: Int
    /// Rounds run first and thrown away.
    var warmUpRounds: Int = 1

    /// The two sides' tallies after a run.
    struct Sides: Sendable {
        /// Runnel's counted rounds, together.
        var runnel = Tally()
        /// The baseline's counted rounds, together.
        var baseline = Tally()
        /// Each counted round's rates (operations per second), to show how much they spread.
        var roundRates: [(runnel: Double, baseline: Double)] = []

        /// The lowest, median and highest of the rounds' Runnel rate over baseline rate (zeros
        /// when no round was counted).
        var roundRatios: (min: Double, median: Double, max: Double) {
            let ratios = roundRates.map { $0.baseline > 0 ? $0.runnel / $0.baseline : .infinity }.sorted()
            guard let first = ratios.first, let last = ratios.last else { return (0, 0, 0) }
            let middle = ratios.count / 2
            let median = ratios.count.isMultiple(of: 2) ? (ratios[middle - 1] + ratios[middle]) / 2 : ratios[middle]
            return (first, median, last)
        }
    }

    /// Runs every round.
    /// - Parameters:
    ///   - input: Makes the input of a round, numbered from 0 (warm-up rounds first); not timed.
    ///   - runnel: Runs Runnel's side of a round, timing each operation with ``Tally/time(_:)``.
    ///   - baseline: Runs the baseline's side of a round.
    /// - Returns: The tallies of the counted rounds.
    func run<Input>(
        input: (_ round: Int) throws -> Input,
        runnel: (Input, inout Tally) throws -> Void,
        baseline: (Input, inout Tally) throws -> Void
    ) throws -> Sides {
        var sides = Sides()
        for round in 0..<(warmUpRounds + rounds) {
            let roundInput = try input(round)
            var runnelRound = Tally()
            var baselineRound = Tally()
            if (round - warmUpRounds).isMultiple(of: 2) {
                try Self.time(runnel, roundInput, into: &runnelRound)
                try Self.time(baseline, roundInput, into: &baselineRound)
            } else {
                try Self.time(baseline, roundInput, into: &baselineRound)
                try Self.time(runnel, roundInput, into: &runnelRound)
            }
            if round >= warmUpRounds {
                sides.runnel.add(runnelRound)
                sides.baseline.add(baselineRound)
                sides.roundRates.append((runnelRound.rate, baselineRound.rate))
            }
        }
        return sides
    }

    private static func time<Input>(_ side: (Input, inout Tally) throws -> Void, _ input: Input, into tally: inout Tally) throws {
        let clock = ContinuousClock()
        let start = clock.now
        try side(input, &tally)
        tally.elapsed += clock.now - start
    }
}

/// What one side of a scenario did: how many operations, in how long, and how long each took.
struct Tally: Sendable {
    /// The operations timed with ``time(_:)``.
    private(set) var operations = 0
    /// The wall time of the counted rounds, including any work between timed operations.
    var elapsed: Duration = .zero
    /// Each timed operation's latency.
    private(set) var latency = LatencyRecorder()

    /// Runs and times one operation.
    @discardableResult
    mutating func time<T>(_ operation: () throws -> T) rethrows -> T {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try operation()
        latency.record(clock.now - start)
        operations += 1
        return result
    }

    /// Adds another tally's operations, time and latencies to this one.
    mutating func add(_ other: Tally) {
        operations += other.operations
        elapsed += other.elapsed
        latency.add(other.latency)
    }

    /// Operations per second of wall time.
    var rate: Double {
        elapsed > .zero ? Double(operations) / elapsed.seconds : 0
    }
}
