extension KVLookupScenario {
    /// The three ways a round looks every key of the sequence up.
    enum Path: Int, CaseIterable, Sendable {
        /// ``KVSnapshot/withValue(forKey:_:)`` on one held snapshot: the value read in place.
        case zeroCopy
        /// ``KVStore/get(_:)``: the application's API, which copies the value into a new array.
        case get
        /// The fastest SQLite set-up, reading the value in place.
        case sqlite
    }

    /// What rounds of the three paths measured.
    struct PathRounds: Sendable {
        /// Each path's counted rounds together, by ``Path/rawValue``.
        var tallies = Array(repeating: Tally(), count: Path.allCases.count)
        /// Each counted round's lookups per second, by ``Path/rawValue``.
        var roundRates: [[Double]] = []

        /// A path's counted rounds together.
        func tally(_ path: Path) -> Tally {
            tallies[path.rawValue]
        }

        /// The lowest, median and highest of the counted rounds' rate of `path` over SQLite's in
        /// the same round: a goal "every round" is met when the lowest meets it.
        func roundRatios(_ path: Path) -> (min: Double, median: Double, max: Double) {
            let ratios = roundRates.map { $0[path.rawValue] / $0[Path.sqlite.rawValue] }.sorted()
            guard let first = ratios.first, let last = ratios.last else { return (0, 0, 0) }
            let middle = ratios.count / 2
            let median = ratios.count.isMultiple(of: 2) ? (ratios[middle - 1] + ratios[middle]) / 2 : ratios[middle]
            return (first, median, last)
        }
    }

    /// Runs warm-up rounds and counted rounds, each running every path once, as ``Interleaving``
    /// does for two sides: here three, in path order in even rounds and backwards in odd ones,
    /// so that neither Runnel's zero-copy path nor SQLite always runs first.
    /// - Parameters:
    ///   - lookups: The lookups of one pass, to turn a pass's time into a rate.
    ///   - pass: Runs one path over the whole sequence, timing with ``Tally/time(_:)``.
    static func runRounds(rounds: Int, warmUpRounds: Int, lookups: Int,
                          _ pass: (Path, inout Tally) throws -> Void) throws -> PathRounds {
        var result = PathRounds()
        let clock = ContinuousClock()
        for round in 0..<(warmUpRounds + rounds) {
            let order = round.isMultiple(of: 2) ? Path.allCases : Path.allCases.reversed()
            var rates = Array(repeating: 0.0, count: Path.allCases.count)
            var tallies = Array(repeating: Tally(), count: Path.allCases.count)
            for path in order {
                let start = clock.now
                try pass(path, &tallies[path.rawValue])
                tallies[path.rawValue].elapsed += clock.now - start
                rates[path.rawValue] = Double(lookups) / tallies[path.rawValue].elapsed.seconds
            }
            guard round >= warmUpRounds else { continue }
            for path in Path.allCases { result.tallies[path.rawValue].add(tallies[path.rawValue]) }
            result.roundRates.append(rates)
        }
        return result
    }
}
