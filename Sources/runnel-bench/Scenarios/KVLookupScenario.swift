import Foundation
import GRDB
import Runnel
import RunnelTesting

/// `kv-lookup`: hot point lookups of existing keys on one thread, Runnel's against the fastest
/// SQLite set-up found for the same keys in the same run.
///
/// The project's goals: in every round, the zero-copy lookup (``KVSnapshot/withValue(forKey:_:)``)
/// at least 10× the best SQLite point lookups (the ratio's goal, and a ``Goal`` on the lowest
/// round's ratio), ``KVStore/get(_:)`` at least 5× them, and `get`'s p99 at most 5 µs.
///
/// Before the rounds (not timed), from ``KVBenchPairs``: a KV store version; the table
/// `kv (key BLOB PRIMARY KEY, value BLOB) WITHOUT ROWID` bulk-loaded into a file of its own as
/// `kv-build`'s baseline makes it (``KVBenchSQLite/bulkLoad(_:to:pageSize:)``: 64 KiB pages,
/// rollback journal), and again with SQLite's default 4 KiB pages, in case smaller pages look
/// keys up faster; and the same table in a database as Runnel's own are (WAL,
/// `synchronous = FULL`, 4 KiB pages), filled in one transaction and checkpointed into its file.
/// The lookups are every key once, in a seeded random order, made beforehand as `[UInt8]`
/// arrays (the member id's digits, allocated in lookup order), so making keys is not timed;
/// every path gets the same sequence.
///
/// The SQLite baseline is chosen by measuring
/// (``readSetups(walURL:publishedURL:smallPagesURL:walBytes:publishedBytes:smallPagesBytes:)``):
/// every set-up runs a warm-up pass, then two timed passes of the whole sequence, the set-ups
/// taking turns, reading the value in place (``KVBenchSQLite/Lookup/withValue(forKey:_:)``);
/// the one with the fastest pass is the baseline, the others are closed before the rounds. The
/// set-ups: on the bulk-loaded file, one read transaction around a pass, a page cache that
/// holds the whole table, `mmap_size` twice the file, a connection without a mutex
/// (`SQLITE_OPEN_NOMUTEX`), alone, with `locking_mode = EXCLUSIVE`, or opened `immutable=1`
/// (also without the memory map, and both of those on the 4 KiB-page file too); on the WAL
/// database, opened as GRDB opens it, the previous baseline (autocommit, so every lookup takes
/// and releases the file's locks, with that cache) and its variants (the default 2 MiB cache;
/// one read transaction).
///
/// Each counted round then runs three passes of the whole sequence, with no clock inside the
/// loop (``runRounds(rounds:warmUpRounds:lookups:_:)``): the zero-copy lookup on one held
/// snapshot (reading each value's length and key digits in place), ``KVStore/get(_:)`` (the
/// application's API: a lock and a reference count per lookup, the value copied into a new
/// `[UInt8]`), and the SQLite baseline reading its value in place, as the zero-copy path does.
/// A warm-up round runs first. The row's figures are the zero-copy path's and the baseline's;
/// each goal on a ratio is checked against every round's ratio. Latency is measured in separate
/// rounds of the same three paths that time every lookup with the clock (its cost, measured
/// alone, is in the detail, and inflates each latency by about that much). Every pass is checked:
/// each value carries its key's digits, and a pass must find every key with the value bytes
/// written (``LookupCheck``). Before a set-up is timed, a sample of the sequence is compared byte
/// for byte with what was written on every path, and absent keys must be absent.
///
/// Extra figures, one pass each after the rounds: the baseline copying its values out as `get`
/// does; the previous baseline as it ran (autocommit, table-sized cache, the value copied
/// out, on the WAL database, after a warm-up pass); ``KVSnapshot/get(_:)`` on the held snapshot (the copy without the lock and the
/// reference count); and absent keys (8-digit ids among the existing ones) on both sides.
struct KVLookupScenario: Scenario {
    let name = "kv-lookup"
    let summary = "hot lookups of random existing keys on one thread: KVSnapshot.withValue and KVStore.get (mmap, hash index) vs the fastest of several SQLite set-ups (read transaction, mmap, cache, EXCLUSIVE or immutable) on a WITHOUT ROWID table"
    let unit = "lookups/s"
    let goal = 10.0

    /// The goal for ``KVStore/get(_:)`` over the baseline, in every round.
    static let getGoal = 5.0
    /// The goal's p99 of ``KVStore/get(_:)``, in microseconds.
    static let p99GoalMicroseconds = 5.0

    /// How much one run does.
    struct Size {
        /// Keys in the store and the tables; a pass looks each up once.
        var keys: Int
        /// Counted throughput rounds, each running the whole sequence once per path.
        var rounds: Int
        /// Rounds timing every lookup, each running the whole sequence once per path.
        var latencyRounds: Int
        /// Absent keys looked up on each side.
        var extraLookups: Int
    }

    /// The size of a quick or a full run.
    static func size(quick: Bool) -> Size {
        quick ? Size(keys: 100_000, rounds: 4, latencyRounds: 2, extraLookups: 50_000)
              : Size(keys: 1_000_000, rounds: 4, latencyRounds: 2, extraLookups: 200_000)
    }

    /// Every how many lookups of the sequence one is compared byte for byte before a set-up is timed.
    private static let sampleStride = 97
    private static let orderSeed: UInt64 = 0x4B56_0000_0DE7
    private static let absentSeed: UInt64 = 0x4B56_0000_AB5E

    func run(quick: Bool) throws -> SideBySideMeasurement {
        let home = try TemporaryHome(label: "bench-kv-lookup")
        return try withExtendedLifetime(home) { try measure(in: home.folder, size: Self.size(quick: quick)) }
    }

    /// The sequence of a pass and what it must find.
    private struct LookupSequence {
        var order: [Int]
        var keys: [[UInt8]]
        var expected: LookupCheck
        var absent: [[UInt8]]
    }

    /// One set-up's timed passes before the rounds.
    private struct SetupRate {
        var setup: KVBenchSQLite.ReadSetup
        /// Its fastest pass, in lookups per second.
        var rate: Double
    }

    private func measure(in root: URL, size: Size) throws -> SideBySideMeasurement {
        let pairs = KVBenchPairs(count: size.keys)
        let folder = try KVStoreFolder(url: root.appendingPathComponent("bench-kv-lookup", isDirectory: true))
        let manifest = try folder.build { writer in
            try pairs.forEachPair { key, value in try writer.add(key: key, value: value) }
        }
        let publishedURL = root.appendingPathComponent("published.sqlite")
        _ = try KVBenchSQLite.bulkLoad(pairs, to: publishedURL)
        let smallPagesURL = root.appendingPathComponent("published-4k.sqlite")
        _ = try KVBenchSQLite.bulkLoad(pairs, to: smallPagesURL, pageSize: 4096)
        let walURL = root.appendingPathComponent("wal.sqlite")
        let writer = try KVBenchSQLite.open(walURL)
        try writer.write { try $0.execute(sql: KVBenchSQLite.createTable) }
        try KVBenchSQLite.insert(pairs, into: writer)
        try KVBenchSQLite.checkpoint(writer)
        try writer.close()
        let publishedBytes = try KVBenchSQLite.fileSize(publishedURL)
        let walBytes = try KVBenchSQLite.fileSize(walURL)

        let store = try KVStore(folder: folder)
        let snapshot = store.snapshot()
        let order = pairs.shuffledIndices(seed: Self.orderSeed)
        let sequence = LookupSequence(order: order, keys: order.map { pairs.key($0) }, expected: LookupCheck.expected(for: order, in: pairs),
                                      absent: pairs.absentKeys(size.extraLookups, seed: Self.absentSeed))
        let keys = sequence.keys, expected = sequence.expected

        // The baseline: the fastest set-up, each measured the same way.
        let setups = Self.readSetups(walURL: walURL, publishedURL: publishedURL, smallPagesURL: smallPagesURL, walBytes: walBytes,
                                     publishedBytes: publishedBytes, smallPagesBytes: try KVBenchSQLite.fileSize(smallPagesURL))
        let (setupRates, sqlite) = try measureSetups(setups.all, sequence, pairs: pairs, store: store, snapshot: snapshot)

        // Throughput: whole passes, no clock inside the loop.
        var cacheMisses = 0
        let throughput = try Self.runRounds(rounds: size.rounds, warmUpRounds: 1, lookups: keys.count) { path, tally in
            switch path {
            case .zeroCopy:
                let found = try tally.time { try Self.lookUpInPlace(keys, snapshot) }
                try expect(found, expected, "KVSnapshot.withValue")
            case .get:
                let found = try tally.time { try Self.lookUp(keys) { try store.get($0) } }
                try expect(found, expected, "KVStore.get")
            case .sqlite:
                try sqlite.withLookup { lookup in
                    let missesBefore = lookup.cacheMisses
                    let found = try tally.time { try Self.lookUpInPlace(keys, lookup) }
                    try expect(found, expected, "SQLite SELECT")
                    cacheMisses += lookup.cacheMisses - missesBefore
                }
            }
        }

        // Latency: every lookup timed, in rounds of their own.
        let latency = try Self.runRounds(rounds: size.latencyRounds, warmUpRounds: 0, lookups: keys.count) { path, tally in
            var found = LookupCheck()
            switch path {
            case .zeroCopy:
                for key in keys {
                    try tally.time { try key.withUnsafeBytes { key in try snapshot.withValue(forKey: key) { found.add($0) } } }
                }
            case .get:
                for key in keys { found.add(try tally.time { try store.get(key) }) }
            case .sqlite:
                try sqlite.withLookup { lookup in
                    for key in keys { try tally.time { try lookup.withValue(forKey: key) { found.add($0) } } }
                }
            }
            try expect(found, expected, "\(path) (timed)")
        }

        let extras = try measureExtras(sequence, store: store, snapshot: snapshot, sqlite: sqlite, previous: setups.previous)
        let clockNanoseconds = Self.clockOverhead()

        let lookups = Double(keys.count * size.rounds)
        let runnelRate = lookups / throughput.tally(.zeroCopy).elapsed.seconds
        let getRate = lookups / throughput.tally(.get).elapsed.seconds
        let baselineRate = lookups / throughput.tally(.sqlite).elapsed.seconds
        let runnelLatency = latency.tally(.zeroCopy).latency.summary
        let getLatency = latency.tally(.get).latency.summary
        let baselineLatency = latency.tally(.sqlite).latency.summary
        let zeroCopyRatios = throughput.roundRatios(.zeroCopy)
        let getRatios = throughput.roundRatios(.get)
        let ranked = setupRates.sorted { $0.rate > $1.rate }
        let winner = ranked[0], runnerUp = ranked.count > 1 ? ranked[1] : ranked[0]
        let mebibyte = Double(1 << 20)
        let valueAverage = Double(pairs.totalValueBytes) / Double(pairs.count)
        let display = FigureFormat.display, ratio = FigureFormat.displayRatio
        func triple(_ latency: LatencySummary) -> String {
            "\(display(latency.p50))/\(display(latency.p99))/\(display(latency.max))"
        }
        func range(_ ratios: (min: Double, median: Double, max: Double)) -> String {
            "\(ratio(ratios.min))/\(ratio(ratios.median))/\(ratio(ratios.max))"
        }
        return SideBySideMeasurement(
            runnel: runnelRate,
            baseline: baselineRate,
            runnelLatency: runnelLatency,
            baselineLatency: baselineLatency,
            goals: [
                Goal("zero-copy ≥ \(Int(goal))× best SQLite every round", met: zeroCopyRatios.min >= goal),
                Goal("get ≥ \(Int(Self.getGoal))× best SQLite every round", met: getRatios.min >= Self.getGoal),
                Goal("get p99 ≤ \(Int(Self.p99GoalMicroseconds)) µs", met: getLatency.p99 <= Self.p99GoalMicroseconds),
            ],
            detail: [
                Figure("runnel_zero_copy_lookups_per_s", runnelRate),
                Figure("runnel_get_lookups_per_s", getRate),
                Figure("baseline_lookups_per_s", baselineRate),
                Figure("round_ratio_min", zeroCopyRatios.min),
                Figure("round_ratio_median", zeroCopyRatios.median),
                Figure("round_ratio_max", zeroCopyRatios.max),
                Figure("get_ratio", getRate / baselineRate),
                Figure("get_round_ratio_min", getRatios.min),
                Figure("get_round_ratio_median", getRatios.median),
                Figure("get_round_ratio_max", getRatios.max),
                Figure("runnel_get_p50_us", getLatency.p50),
                Figure("runnel_get_p99_us", getLatency.p99),
                Figure("runnel_get_max_us", getLatency.max),
            ] + setupRates.map { Figure("sqlite_\($0.setup.key)_lookups_per_s", $0.rate) } + [
                Figure("baseline_copy_lookups_per_s", extras.baselineCopyRate),
                Figure("previous_baseline_lookups_per_s", extras.previousRate),
                Figure("runnel_snapshot_get_lookups_per_s", extras.snapshotGetRate),
                Figure("runnel_absent_lookups_per_s", extras.runnelAbsentRate),
                Figure("baseline_absent_lookups_per_s", extras.baselineAbsentRate),
                Figure("baseline_cache_misses_counted_rounds", cacheMisses),
                Figure("clock_read_ns_p50", clockNanoseconds),
                Figure("keys", pairs.count),
                Figure("lookups_per_round", keys.count),
                Figure("value_bytes_avg", valueAverage),
                Figure("runnel_file_bytes", manifest.fileSize),
                Figure("baseline_db_bytes", publishedBytes),
                Figure("wal_db_bytes", walBytes),
                Figure("baseline_cache_kib", setups.cacheKiB(publishedBytes)),
                Figure("baseline_mmap_bytes", setups.mmapBytes),
                Figure("rounds", size.rounds),
                Figure("latency_rounds", size.latencyRounds),
                Figure("absent_lookups", size.extraLookups),
                Figure("result_check_passed", 1),
            ],
            note: [
                "\(size.rounds) rounds × \(keys.count) lookups a path of \(pairs.count) keys ([UInt8] member ids, random order, one thread, ",
                "\(display(valueAverage)) B values; untimed loop); ",
                "baseline = fastest of \(setupRates.count) SQLite set-ups, reading values in place: \(winner.setup.name), ",
                "\(display(winner.rate)) lookups/s before the rounds (next: \(runnerUp.setup.name), \(display(runnerUp.rate)), ",
                "×\(ratio(winner.rate / runnerUp.rate))); all set-ups: ",
                setupRates.map { "\($0.setup.key) \(display($0.rate))" }.joined(separator: ", ") + "; ",
                "runnel zero-copy withValue \(display(runnelRate)), KVStore.get \(display(getRate)) lookups/s; ",
                "round ratios min/median/max: zero-copy \(range(zeroCopyRatios)), get \(range(getRatios)); ",
                "latency p50/p99/max µs from \(size.latencyRounds) more rounds timing each lookup (clock read ≈ \(display(clockNanoseconds)) ns): ",
                "zero-copy \(triple(runnelLatency)), get \(triple(getLatency)), SQLite \(triple(baselineLatency)); ",
                "baseline copying values out as get does \(display(extras.baselineCopyRate)); ",
                "previous baseline (WAL database, autocommit, table-sized cache, copy) \(display(extras.previousRate)) ",
                "(zero-copy ×\(ratio(runnelRate / extras.previousRate)), get ×\(ratio(getRate / extras.previousRate))); ",
                "KVSnapshot.get \(display(extras.snapshotGetRate)); absent keys: runnel \(display(extras.runnelAbsentRate)), ",
                "SQLite \(display(extras.baselineAbsentRate)); \(cacheMisses) SQLite cache misses in counted rounds; ",
                "file \(display(Double(manifest.fileSize) / mebibyte)) MiB vs SQLite \(display(Double(publishedBytes) / mebibyte)) MiB; ",
                "every lookup's value checked against its key",
            ].joined())
    }

    // MARK: - SQLite set-ups

    /// The SQLite set-ups measured before the rounds, the fastest becoming the baseline.
    struct ReadSetups {
        /// Every set-up, in the order measured.
        var all: [KVBenchSQLite.ReadSetup]
        /// The previous baseline: the WAL database, autocommit, a cache holding the table.
        var previous: KVBenchSQLite.ReadSetup
        /// The `mmap_size` of the set-ups with a memory map.
        var mmapBytes: Int

        /// A page cache holding every page of a file of `bytes`, SQLite's per-page overhead,
        /// and some to spare, in KiB.
        func cacheKiB(_ bytes: Int) -> Int {
            bytes / 1024 * 3 / 2 + 8_192
        }
    }

    /// The set-ups: on the bulk-loaded file, the ones a user tuning point lookups would try
    /// (one read transaction, a cache holding the table, a memory map of the whole file, no
    /// mutex, then exclusive locking or no locking at all), and the fastest-looking of them on
    /// the same file with SQLite's default 4 KiB pages too; on the WAL database, the previous
    /// baseline and its variants, opened as GRDB opens connections.
    static func readSetups(walURL: URL, publishedURL: URL, smallPagesURL: URL, walBytes: Int,
                           publishedBytes: Int, smallPagesBytes: Int) -> ReadSetups {
        var setups = ReadSetups(all: [], previous: KVBenchSQLite.ReadSetup(name: "", key: "", url: walURL),
                                mmapBytes: 2 * max(publishedBytes, smallPagesBytes))
        let publishedCache = "PRAGMA cache_size = -\(setups.cacheKiB(publishedBytes))"
        let smallPagesCache = "PRAGMA cache_size = -\(setups.cacheKiB(smallPagesBytes))"
        let walCache = "PRAGMA cache_size = -\(setups.cacheKiB(walBytes))"
        let mmap = "PRAGMA mmap_size = \(setups.mmapBytes)"
        typealias Setup = KVBenchSQLite.ReadSetup
        setups.previous = Setup(name: "WAL database, autocommit, table-sized cache", key: "wal_autocommit", url: walURL, pragmas: [walCache])
        setups.all = [
            Setup(name: "64 KiB pages, immutable=1, one read transaction, mmap, table-sized cache", key: "immutable_mmap", url: publishedURL,
                  immutable: true, noMutex: true, pragmas: [publishedCache, mmap], oneReadTransaction: true),
            Setup(name: "64 KiB pages, immutable=1, one read transaction, table-sized cache, no mmap", key: "immutable", url: publishedURL,
                  immutable: true, noMutex: true, pragmas: [publishedCache], oneReadTransaction: true),
            Setup(name: "64 KiB pages, locking_mode=EXCLUSIVE, one read transaction, mmap, table-sized cache", key: "exclusive_mmap", url: publishedURL,
                  noMutex: true, pragmas: ["PRAGMA locking_mode = EXCLUSIVE", publishedCache, mmap], oneReadTransaction: true),
            Setup(name: "64 KiB pages, one read transaction, mmap, table-sized cache", key: "read_tx_mmap", url: publishedURL,
                  noMutex: true, pragmas: [publishedCache, mmap], oneReadTransaction: true),
            Setup(name: "4 KiB pages, immutable=1, one read transaction, mmap, table-sized cache", key: "4k_immutable_mmap", url: smallPagesURL,
                  immutable: true, noMutex: true, pragmas: [smallPagesCache, mmap], oneReadTransaction: true),
            Setup(name: "4 KiB pages, immutable=1, one read transaction, table-sized cache, no mmap", key: "4k_immutable", url: smallPagesURL,
                  immutable: true, noMutex: true, pragmas: [smallPagesCache], oneReadTransaction: true),
            Setup(name: "WAL database, one read transaction, table-sized cache", key: "wal_read_tx", url: walURL,
                  pragmas: [walCache], oneReadTransaction: true),
            setups.previous,
            Setup(name: "WAL database, autocommit, default 2 MiB cache", key: "wal_default_cache", url: walURL),
        ]
        return setups
    }

    /// Measures every SQLite set-up and returns their rates and the fastest one's reader, the
    /// others closed. Each is checked on a sample and warmed, then timed in turns, two passes
    /// each, so that a burst of noise from the rest of the machine does not fall on one set-up's
    /// passes only; its fastest pass counts.
    private func measureSetups(_ setups: [KVBenchSQLite.ReadSetup], _ sequence: LookupSequence, pairs: KVBenchPairs, store: KVStore,
                               snapshot: KVSnapshot) throws -> (rates: [SetupRate], best: KVBenchSQLite.Reader) {
        let keys = sequence.keys, expected = sequence.expected
        let readers = try setups.map { setup in
            let reader = try KVBenchSQLite.Reader(setup)
            try checkSample(sequence, pairs: pairs, store: store, snapshot: snapshot, reader: reader)
            try reader.withLookup { try expect(try Self.lookUpInPlace(keys, $0), expected, "SQLite SELECT (\(setup.name), warm-up)") }
            return reader
        }
        var fastest = Array(repeating: 0.0, count: readers.count)
        for _ in 0..<2 {
            for (index, reader) in readers.enumerated() {
                let start = ContinuousClock.now
                let found = try reader.withLookup { try Self.lookUpInPlace(keys, $0) }
                let elapsed = ContinuousClock.now - start
                try expect(found, expected, "SQLite SELECT (\(reader.setup.name))")
                fastest[index] = max(fastest[index], Double(keys.count) / elapsed.seconds)
            }
        }
        let setupRates = zip(setups, fastest).map { SetupRate(setup: $0, rate: $1) }
        guard let best = fastest.indices.max(by: { fastest[$0] < fastest[$1] }) else {
            throw BenchmarkError("\(name): no SQLite set-up to measure")
        }
        return (setupRates, readers[best])
    }

    // MARK: - Passes

    /// Looks every key up with `get`, folding what it finds.
    private static func lookUp(_ keys: [[UInt8]], _ get: ([UInt8]) throws -> [UInt8]?) rethrows -> LookupCheck {
        var found = LookupCheck()
        for key in keys { found.add(try get(key)) }
        return found
    }

    /// Looks every key up on a snapshot, reading each value in place.
    private static func lookUpInPlace(_ keys: [[UInt8]], _ snapshot: KVSnapshot) throws -> LookupCheck {
        var found = LookupCheck()
        for key in keys {
            try key.withUnsafeBytes { key in try snapshot.withValue(forKey: key) { found.add($0) } }
        }
        return found
    }

    /// Looks every key up in SQLite, reading each value in place.
    private static func lookUpInPlace(_ keys: [[UInt8]], _ lookup: KVBenchSQLite.Lookup) throws -> LookupCheck {
        var found = LookupCheck()
        for key in keys { try lookup.withValue(forKey: key) { found.add($0) } }
        return found
    }

    private func expect(_ found: LookupCheck, _ expected: LookupCheck, _ path: String) throws {
        guard found == expected else {
            throw BenchmarkError("\(name): a pass of \(path) found \(found.description); expected \(expected.description)")
        }
    }

    /// Compares a sample of the sequence byte for byte with what was written, on Runnel's paths
    /// and a SQLite set-up both ways (copied and in place), and checks that absent keys are absent.
    private func checkSample(_ sequence: LookupSequence, pairs: KVBenchPairs, store: KVStore, snapshot: KVSnapshot,
                             reader: KVBenchSQLite.Reader) throws {
        try reader.withLookup { lookup in
            func text(_ bytes: [UInt8]?) -> String { bytes.map { String(decoding: $0, as: UTF8.self) } ?? "nothing" }
            for position in stride(from: 0, to: sequence.keys.count, by: Self.sampleStride) {
                let key = sequence.keys[position], written = pairs.value(sequence.order[position])
                let got = try store.get(key)
                let inPlace = try key.withUnsafeBytes { try snapshot.withValue(forKey: $0) { $0.map(Array.init) } }
                let baseline = try lookup.value(forKey: key)
                let baselineInPlace = try lookup.withValue(forKey: key) { $0.map(Array.init) }
                guard got == written, inPlace == written, baseline == written, baselineInPlace == written else {
                    throw BenchmarkError("\(name): key \(text(key)) was written with \(text(written)); KVStore.get returns \(text(got)), "
                        + "withValue \(text(inPlace)), SQLite (\(reader.setup.name)) \(text(baseline)), in place \(text(baselineInPlace))")
                }
            }
            for key in sequence.absent {
                let got = try store.get(key), baseline = try lookup.value(forKey: key)
                let baselineInPlace = try lookup.withValue(forKey: key) { $0?.count }
                guard got == nil, baseline == nil, baselineInPlace == nil else {
                    throw BenchmarkError("\(name): key \(text(key)) was never written, yet KVStore.get returns \(got?.count ?? -1) bytes "
                        + "and SQLite (\(reader.setup.name)) \(baseline?.count ?? -1), in place \(baselineInPlace ?? -1)")
                }
            }
        }
    }

    /// The rates of the extra passes.
    private struct Extras {
        var baselineCopyRate: Double
        var previousRate: Double
        var snapshotGetRate: Double
        var runnelAbsentRate: Double
        var baselineAbsentRate: Double
    }

    /// One pass of each extra path, timed as a whole, its answers checked like the rounds'.
    private func measureExtras(_ sequence: LookupSequence, store: KVStore, snapshot: KVSnapshot, sqlite: KVBenchSQLite.Reader,
                               previous: KVBenchSQLite.ReadSetup) throws -> Extras {
        func rate(_ count: Int, _ path: String, expecting wanted: LookupCheck, _ pass: () throws -> LookupCheck) throws -> Double {
            let start = ContinuousClock.now
            let found = try pass()
            let elapsed = ContinuousClock.now - start
            try expect(found, wanted, path)
            return Double(count) / elapsed.seconds
        }
        let keys = sequence.keys, expected = sequence.expected
        // The baseline with the copy `get` makes: like for like with KVStore.get.
        let baselineCopyRate = try sqlite.withLookup { lookup in
            try rate(keys.count, "SQLite SELECT, copied", expecting: expected) { try Self.lookUp(keys, lookup.value(forKey:)) }
        }
        // The previous baseline exactly: its set-up, the value copied out, after a warm-up pass.
        let previousReader = try KVBenchSQLite.Reader(previous)
        let previousRate = try previousReader.withLookup { lookup in
            try expect(try Self.lookUp(keys, lookup.value(forKey:)), expected, "SQLite SELECT, previous baseline (warm-up)")
            return try rate(keys.count, "SQLite SELECT, previous baseline", expecting: expected) { try Self.lookUp(keys, lookup.value(forKey:)) }
        }
        // Runnel on one held snapshot with the copy of `get`: no lock or reference count per lookup.
        let snapshotGetRate = try rate(keys.count, "KVSnapshot.get", expecting: expected) {
            try Self.lookUp(keys) { try snapshot.get($0) }
        }
        let absent = sequence.absent
        let none = LookupCheck(found: 0, missing: absent.count, bytes: 0, keyWords: 0)
        let runnelAbsentRate = try rate(absent.count, "KVStore.get of absent keys", expecting: none) {
            try Self.lookUp(absent) { try store.get($0) }
        }
        let baselineAbsentRate = try sqlite.withLookup { lookup in
            try rate(absent.count, "SQLite SELECT of absent keys", expecting: none) { try Self.lookUpInPlace(absent, lookup) }
        }
        return Extras(baselineCopyRate: baselineCopyRate, previousRate: previousRate, snapshotGetRate: snapshotGetRate,
                      runnelAbsentRate: runnelAbsentRate, baselineAbsentRate: baselineAbsentRate)
    }

    /// What timing an operation costs by itself: the median of timing nothing, in nanoseconds.
    private static func clockOverhead() -> Double {
        var tally = Tally()
        for _ in 0..<100_000 { tally.time {} }
        return tally.latency.summary.p50 * 1000
    }
}
