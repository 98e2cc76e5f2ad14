import Foundation
import GRDB
import Runnel
import RunnelTesting

/// `kv-lookup`: hot point lookups of existing keys on one thread, through ``KVStore/get(_:)``,
/// against SQLite point lookups of the same keys.
///
/// The project's goal asks for at least 10× SQLite point lookups on the same keys (the ratio's goal)
/// and a p99 of at most 5 µs per lookup (an absolute figure, in the detail).
///
/// Both sides are built once, before the rounds (not timed), from ``KVBenchPairs``: a KV store
/// version, and the table `kv (key BLOB PRIMARY KEY, value BLOB) WITHOUT ROWID` filled in one
/// transaction and checkpointed into its file. The lookups are every key once, in a seeded random
/// order, made beforehand as `[UInt8]` arrays (the member id's digits, allocated in lookup order),
/// so making keys is not timed; both sides get the same sequence. Runnel's side calls
/// ``KVStore/get(_:)`` with each, the application's API, which copies the value into a new
/// `[UInt8]`. The baseline steps one cached prepared `SELECT value FROM kv WHERE key = ?`
/// through the C API (autocommit, so each lookup is its own read transaction) and copies the
/// blob into a new `[UInt8]` (``KVBenchSQLite/Lookup``), on a connection whose page cache is big
/// enough to hold the whole table: hot for SQLite means no reads from the file at all (checked:
/// the connection's cache misses are counted).
///
/// Throughput is measured with no clock inside the loop: rounds of the whole sequence per side,
/// after a warm-up round that faults in Runnel's mapping (and checks every block's CRC) and
/// fills SQLite's cache. Latency is measured in separate rounds that time every lookup with the
/// clock (its cost, measured alone, is in the detail, and inflates each latency by about that
/// much). Every timed lookup is checked: each value carries its key's digits, and a pass must
/// find every key with the value bytes written (``LookupCheck``). Before the rounds, a sample of
/// the sequence is compared byte for byte on every path, and absent keys must be absent.
///
/// Extra figures, one pass each after the rounds, to show where the time goes: Runnel on one
/// held snapshot, with ``KVSnapshot/get(_:)`` (no lock or reference count per lookup) and with
/// the zero-copy ``KVSnapshot/withValue(forKey:_:)``, over the same sequence; absent keys
/// (8-digit ids among the existing ones) on both sides; and, over the start of the sequence,
/// SQLite with all its lookups in one read transaction (file locks taken once, not per lookup)
/// and SQLite with its default 2 MiB page cache, which reads most pages from the file (the OS
/// page cache) again.
struct KVLookupScenario: Scenario {
    let name = "kv-lookup"
    let summary = "hot lookups of random existing keys on one thread: KVStore.get (mmap, hash index) vs SQLite's prepared SELECT on a WITHOUT ROWID table cached in memory"
    let unit = "lookups/s"
    let goal = 10.0

    /// The goal's p99, in microseconds.
    static let p99GoalMicroseconds = 5.0

    /// How much one run does.
    struct Size {
        /// Keys in the store and the table; a round looks each up once.
        var keys: Int
        /// Counted throughput rounds, each running the whole sequence once per side.
        var rounds: Int
        /// Rounds timing every lookup, each running the whole sequence once per side.
        var latencyRounds: Int
        /// Lookups in each extra pass of SQLite (default cache, absent keys) and of absent keys on Runnel's side.
        var extraLookups: Int
    }

    /// The size of a quick or a full run.
    static func size(quick: Bool) -> Size {
        quick ? Size(keys: 100_000, rounds: 4, latencyRounds: 2, extraLookups: 50_000)
              : Size(keys: 1_000_000, rounds: 4, latencyRounds: 2, extraLookups: 200_000)
    }

    /// Every how many lookups of the sequence one is compared byte for byte before the rounds.
    private static let sampleStride = 97
    private static let orderSeed: UInt64 = 0x4B56_0000_0DE7
    private static let absentSeed: UInt64 = 0x4B56_0000_AB5E

    func run(quick: Bool) throws -> SideBySideMeasurement {
        let home = try TemporaryHome(label: "bench-kv-lookup")
        return try withExtendedLifetime(home) { try measure(in: home.folder, size: Self.size(quick: quick)) }
    }

    private func measure(in root: URL, size: Size) throws -> SideBySideMeasurement {
        let pairs = KVBenchPairs(count: size.keys)
        let folder = try KVStoreFolder(url: root.appendingPathComponent("bench-kv-lookup", isDirectory: true))
        let manifest = try folder.build { writer in
            try pairs.forEachPair { key, value in try writer.add(key: key, value: value) }
        }
        let databaseURL = root.appendingPathComponent("baseline.sqlite")
        let writer = try KVBenchSQLite.open(databaseURL)
        try writer.write { try $0.execute(sql: KVBenchSQLite.createTable) }
        try KVBenchSQLite.insert(pairs, into: writer)
        try KVBenchSQLite.checkpoint(writer)
        try writer.close()
        let databaseBytes = try KVBenchSQLite.fileSize(databaseURL)

        let store = try KVStore(folder: folder)
        // Room for every page and SQLite's per-page overhead, and some to spare.
        let cacheKiB = databaseBytes / 1024 * 3 / 2 + 8_192
        let sqlite = try KVBenchSQLite.open(databaseURL, cacheKiB: cacheKiB)

        let order = pairs.shuffledIndices(seed: Self.orderSeed)
        let keys = order.map { pairs.key($0) }
        let expected = LookupCheck.expected(for: order, in: pairs)
        let absent = pairs.absentKeys(size.extraLookups, seed: Self.absentSeed)
        try checkSample(order: order, keys: keys, absent: absent, pairs: pairs, store: store, sqlite: sqlite)

        // Throughput: whole passes, no clock inside the loop.
        var cacheMisses = 0
        let interleaving = Interleaving(rounds: size.rounds, warmUpRounds: 1)
        let throughput = try interleaving.run(
            input: { round in round },
            runnel: { _, tally in
                let found = try tally.time { try Self.lookUp(keys) { try store.get($0) } }
                try expect(found, expected, "KVStore.get")
            },
            baseline: { round, tally in
                try KVBenchSQLite.withLookup(sqlite) { lookup in
                    let missesBefore = lookup.cacheMisses
                    let found = try tally.time { try Self.lookUp(keys, lookup.value(forKey:)) }
                    try expect(found, expected, "SQLite SELECT")
                    if round >= interleaving.warmUpRounds { cacheMisses += lookup.cacheMisses - missesBefore }
                }
            })

        // Latency: every lookup timed, in rounds of their own.
        let latency = try Interleaving(rounds: size.latencyRounds, warmUpRounds: 0).run(
            input: { _ in () },
            runnel: { _, tally in
                var found = LookupCheck()
                for key in keys { found.add(try tally.time { try store.get(key) }) }
                try expect(found, expected, "KVStore.get (timed)")
            },
            baseline: { _, tally in
                try KVBenchSQLite.withLookup(sqlite) { lookup in
                    var found = LookupCheck()
                    for key in keys { found.add(try tally.time { try lookup.value(forKey: key) }) }
                    try expect(found, expected, "SQLite SELECT (timed)")
                }
            })

        let extras = try measureExtras(keys: keys, expected: expected, order: order, absent: absent, size: size,
                                       pairs: pairs, store: store, sqlite: sqlite, databaseURL: databaseURL)
        let clockNanoseconds = Self.clockOverhead()

        let lookups = Double(keys.count * size.rounds)
        let runnelRate = lookups / throughput.runnel.elapsed.seconds
        let baselineRate = lookups / throughput.baseline.elapsed.seconds
        let runnelLatency = latency.runnel.latency.summary
        let baselineLatency = latency.baseline.latency.summary
        let meetsP99 = runnelLatency.p99 <= Self.p99GoalMicroseconds
        let roundRatios = throughput.roundRatios
        let mebibyte = Double(1 << 20)
        let valueAverage = Double(pairs.totalValueBytes) / Double(pairs.count)
        let display = FigureFormat.display
        func triple(_ latency: LatencySummary) -> String {
            "\(display(latency.p50))/\(display(latency.p99))/\(display(latency.max))"
        }
        return SideBySideMeasurement(
            runnel: runnelRate,
            baseline: baselineRate,
            runnelLatency: runnelLatency,
            baselineLatency: baselineLatency,
            detail: [
                Figure("runnel_lookups_per_s", runnelRate),
                Figure("baseline_lookups_per_s", baselineRate),
                Figure("design_5us_p99_met", meetsP99 ? 1 : 0),
                Figure("runnel_snapshot_get_lookups_per_s", extras.snapshotGetRate),
                Figure("runnel_zero_copy_lookups_per_s", extras.zeroCopyRate),
                Figure("runnel_absent_lookups_per_s", extras.runnelAbsentRate),
                Figure("baseline_absent_lookups_per_s", extras.baselineAbsentRate),
                Figure("baseline_one_read_tx_lookups_per_s", extras.oneTransactionRate),
                Figure("baseline_default_cache_lookups_per_s", extras.defaultCacheRate),
                Figure("baseline_cache_misses_counted_rounds", cacheMisses),
                Figure("clock_read_ns_p50", clockNanoseconds),
                Figure("keys", pairs.count),
                Figure("lookups_per_round", keys.count),
                Figure("value_bytes_avg", valueAverage),
                Figure("runnel_file_bytes", manifest.fileSize),
                Figure("baseline_db_bytes", databaseBytes),
                Figure("baseline_cache_kib", cacheKiB),
                Figure("rounds", size.rounds),
                Figure("latency_rounds", size.latencyRounds),
                Figure("extra_pass_lookups", size.extraLookups),
                Figure("round_ratio_min", roundRatios.min),
                Figure("round_ratio_median", roundRatios.median),
                Figure("round_ratio_max", roundRatios.max),
                Figure("result_check_passed", 1),
            ],
            note: "\(size.rounds) rounds × \(keys.count) lookups a side of \(pairs.count) keys ([UInt8] member ids, random order, one thread, "
                + "\(FigureFormat.display(valueAverage)) B values copied out; untimed loop); "
                + "latency p50/p99/max µs from \(size.latencyRounds) more rounds timing each lookup (clock read ≈ \(display(clockNanoseconds)) ns): "
                + "runnel \(triple(runnelLatency)) (goal p99 ≤ \(display(Self.p99GoalMicroseconds)) µs: \(meetsP99 ? "met" : "not met")), "
                + "SQLite \(triple(baselineLatency)); "
                + "runnel \(display(runnelRate)) lookups/s (on a held snapshot: get \(display(extras.snapshotGetRate)), "
                + "zero-copy withValue \(display(extras.zeroCopyRate))), "
                + "SQLite \(display(baselineRate)) with the table in its cache (\(cacheMisses) misses in counted rounds; "
                + "all in one read transaction \(display(extras.oneTransactionRate)); "
                + "default 2 MiB cache \(display(extras.defaultCacheRate))); absent keys: runnel \(display(extras.runnelAbsentRate)), "
                + "SQLite \(display(extras.baselineAbsentRate)); file \(display(Double(manifest.fileSize) / mebibyte)) MiB vs "
                + "SQLite \(display(Double(databaseBytes) / mebibyte)) MiB; every lookup's value checked against its key; "
                + "round ratios \(FigureFormat.displayRatio(roundRatios.min))–\(FigureFormat.displayRatio(roundRatios.max))")
    }

    // MARK: - Passes

    /// Looks every key up with `get`, folding what it finds.
    private static func lookUp(_ keys: [[UInt8]], _ get: ([UInt8]) throws -> [UInt8]?) rethrows -> LookupCheck {
        var found = LookupCheck()
        for key in keys { found.add(try get(key)) }
        return found
    }

    private func expect(_ found: LookupCheck, _ expected: LookupCheck, _ path: String) throws {
        guard found == expected else {
            throw BenchmarkError("\(name): a pass of \(path) found \(found.description); expected \(expected.description)")
        }
    }

    /// Compares a sample of the sequence byte for byte with what was written, on every path, and
    /// checks that absent keys are absent.
    private func checkSample(order: [Int], keys: [[UInt8]], absent: [[UInt8]], pairs: KVBenchPairs,
                             store: KVStore, sqlite: DatabaseQueue) throws {
        let snapshot = store.snapshot()
        try KVBenchSQLite.withLookup(sqlite) { lookup in
            for position in stride(from: 0, to: keys.count, by: Self.sampleStride) {
                let key = keys[position], written = pairs.value(order[position])
                let got = try store.get(key)
                let inPlace = try key.withUnsafeBytes { try snapshot.withValue(forKey: $0) { $0.map(Array.init) } }
                let baseline = try lookup.value(forKey: key)
                guard got == written, inPlace == written, baseline == written else {
                    func text(_ bytes: [UInt8]?) -> String { bytes.map { String(decoding: $0, as: UTF8.self) } ?? "nothing" }
                    throw BenchmarkError("\(name): key \(text(key)) was written with \(text(written)); KVStore.get returns \(text(got)), "
                        + "withValue \(text(inPlace)), SQLite \(text(baseline))")
                }
            }
            for key in absent {
                let got = try store.get(key), baseline = try lookup.value(forKey: key)
                guard got == nil, baseline == nil else {
                    throw BenchmarkError("\(name): key \(String(decoding: key, as: UTF8.self)) was never written, "
                        + "yet KVStore.get returns \(got?.count ?? -1) bytes and SQLite \(baseline?.count ?? -1)")
                }
            }
        }
    }

    /// The rates of the extra passes.
    private struct Extras {
        var snapshotGetRate: Double
        var zeroCopyRate: Double
        var runnelAbsentRate: Double
        var baselineAbsentRate: Double
        var oneTransactionRate: Double
        var defaultCacheRate: Double
    }

    /// One pass of each extra path, timed as a whole, its answers checked like the rounds'.
    private func measureExtras(keys: [[UInt8]], expected: LookupCheck, order: [Int], absent: [[UInt8]], size: Size,
                               pairs: KVBenchPairs, store: KVStore, sqlite: DatabaseQueue, databaseURL: URL) throws -> Extras {
        func rate(_ count: Int, _ path: String, expecting wanted: LookupCheck, _ pass: () throws -> LookupCheck) throws -> Double {
            let start = ContinuousClock.now
            let found = try pass()
            let elapsed = ContinuousClock.now - start
            try expect(found, wanted, path)
            return Double(count) / elapsed.seconds
        }
        // Runnel on one held snapshot: no lock or reference count per lookup; with the copy of
        // `get`, then in place (reading the value's length and key digits, not all its bytes).
        let snapshot = store.snapshot()
        let snapshotGetRate = try rate(keys.count, "KVSnapshot.get", expecting: expected) {
            try Self.lookUp(keys) { try snapshot.get($0) }
        }
        let zeroCopyRate = try rate(keys.count, "KVSnapshot.withValue", expecting: expected) {
            var found = LookupCheck()
            for key in keys {
                try key.withUnsafeBytes { key in try snapshot.withValue(forKey: key) { found.add($0) } }
            }
            return found
        }

        let none = LookupCheck(found: 0, missing: absent.count, bytes: 0, keyWords: 0)
        let runnelAbsentRate = try rate(absent.count, "KVStore.get of absent keys", expecting: none) {
            try Self.lookUp(absent) { try store.get($0) }
        }
        let baselineAbsentRate = try KVBenchSQLite.withLookup(sqlite) { lookup in
            try rate(absent.count, "SQLite SELECT of absent keys", expecting: none) { try Self.lookUp(absent, lookup.value(forKey:)) }
        }

        let prefix = Array(keys.prefix(size.extraLookups))
        let prefixExpected = LookupCheck.expected(for: Array(order.prefix(size.extraLookups)), in: pairs)
        // SQLite's lookups in one read transaction: its file locks taken once, not per lookup.
        let oneTransactionRate = try KVBenchSQLite.withLookup(sqlite, oneReadTransaction: true) { lookup in
            try rate(prefix.count, "SQLite SELECT in one read transaction", expecting: prefixExpected) { try Self.lookUp(prefix, lookup.value(forKey:)) }
        }
        // SQLite as configured by default: a 2 MiB page cache, so most pages come from the file.
        let defaultCache = try KVBenchSQLite.open(databaseURL)
        let defaultCacheRate = try KVBenchSQLite.withLookup(defaultCache) { lookup in
            try rate(prefix.count, "SQLite SELECT with the default cache", expecting: prefixExpected) { try Self.lookUp(prefix, lookup.value(forKey:)) }
        }
        try defaultCache.close()
        return Extras(snapshotGetRate: snapshotGetRate, zeroCopyRate: zeroCopyRate, runnelAbsentRate: runnelAbsentRate,
                      baselineAbsentRate: baselineAbsentRate, oneTransactionRate: oneTransactionRate, defaultCacheRate: defaultCacheRate)
    }

    /// What timing an operation costs by itself: the median of timing nothing, in nanoseconds.
    private static func clockOverhead() -> Double {
        var tally = Tally()
        for _ in 0..<100_000 { tally.time {} }
        return tally.latency.summary.p50 * 1000
    }
}
