import Foundation
import GRDB
import Runnel
import RunnelTesting

/// `kv-build`: building a version of a KV store from N pairs, against inserting the same pairs
/// into a SQLite table keyed by the key.
///
/// The project sets no figure for building. The goal is a ratio of 1: a store that is rebuilt
/// whole from a pipeline's output should be written at least as fast as SQLite takes the same
/// rows, or publishing a version would cost more than keeping the rows in a table.
///
/// The pairs are ``KVBenchPairs``: member ids as 8-digit text, a JSON object of about 100
/// bytes each, in key order (the order a pipeline writes its store in, and SQLite's fastest). Runnel's side
/// calls ``KVStoreFolder/build(pipeline:pipelineVersion:sourceOffsets:keep:_:)`` and adds each pair
/// with ``KVDataFileWriter/add(key:value:)`` (raw buffers, no copies): the records, the hash
/// index, the per-block CRC-32Cs and the SHA-256 are written, the file and manifest fsynced, the
/// folder renamed to `v1` and `CURRENT` switched. The baseline inserts the same bytes into
/// `CREATE TABLE kv (key BLOB PRIMARY KEY, value BLOB) WITHOUT ROWID` with one prepared
/// statement in one transaction (``KVBenchSQLite/insert(_:into:)``), WAL and
/// `synchronous = FULL` as Runnel's databases use, so the commit fsyncs the WAL; the automatic
/// checkpoint after it (it copies the pages into the database file and fsyncs that) is timed
/// too, as it runs inside the commit.
///
/// Every round builds into a new store folder and a new database file, made and removed
/// between rounds (not timed), so both sides always start from nothing. After every round the
/// version is verified completely (``KVSnapshot/verify()``: every block's CRC, the SHA-256, every
/// key reachable) and a sample of keys is read back from both sides and compared with what was
/// written; a difference fails the scenario.
struct KVBuildScenario: Scenario {
    let name = "kv-build"
    let summary = "building a KV store version of member-feature pairs (hash index, CRCs, SHA-256, fsync, CURRENT switch) vs inserting them into a SQLite WITHOUT ROWID table in one transaction"
    let unit = "keys/s"
    let goal = 1.0

    /// How much one run does.
    struct Size {
        /// Pairs in each build.
        var keys: Int
        /// Counted rounds, each building once per side.
        var rounds: Int
    }

    /// The size of a quick or a full run.
    static func size(quick: Bool) -> Size {
        quick ? Size(keys: 100_000, rounds: 4) : Size(keys: 1_000_000, rounds: 4)
    }

    /// Every how many keys one is read back after a round.
    private static let sampleStride = 97

    func run(quick: Bool) throws -> SideBySideMeasurement {
        let home = try TemporaryHome(label: "bench-kv-build")
        return try withExtendedLifetime(home) { try measure(in: home.folder, size: Self.size(quick: quick)) }
    }

    /// Where one round builds: a store folder and a database of its own.
    private struct Target {
        /// Whether the round is counted (not the warm-up).
        var counted: Bool
        var folder: KVStoreFolder
        var databaseURL: URL
        var database: DatabaseQueue
    }

    /// What a built round left on disk.
    private struct Built {
        var runnelFileBytes = 0
        var baselineDatabaseBytes = 0
        var baselineWALBytes = 0
    }

    private func measure(in root: URL, size: Size) throws -> SideBySideMeasurement {
        let pairs = KVBenchPairs(count: size.keys)
        let interleaving = Interleaving(rounds: size.rounds, warmUpRounds: 1)
        var previous: Target?
        var built = Built()
        var commits: Duration = .zero
        let sides = try interleaving.run(
            input: { round in
                if let target = previous {
                    built = try check(target, pairs: pairs)
                    previous = nil
                    try remove(target)
                }
                let databaseURL = root.appendingPathComponent("baseline-\(round).sqlite")
                let database = try KVBenchSQLite.open(databaseURL)
                try database.write { try $0.execute(sql: KVBenchSQLite.createTable) }
                let target = Target(counted: round >= interleaving.warmUpRounds,
                                    folder: try KVStoreFolder(url: root.appendingPathComponent("bench-kv-\(round)", isDirectory: true)),
                                    databaseURL: databaseURL, database: database)
                previous = target
                return target
            },
            runnel: { target, tally in
                let manifest = try tally.time {
                    try target.folder.build(keep: 1) { writer in
                        try pairs.forEachPair { key, value in try writer.add(key: key, value: value) }
                    }
                }
                guard manifest.keyCount == pairs.count, manifest.version == 1 else {
                    throw BenchmarkError("\(name): the build made version \(manifest.version) of \(manifest.keyCount) keys; \(pairs.count) keys went in")
                }
            },
            baseline: { target, tally in
                let commit = try tally.time { try KVBenchSQLite.insert(pairs, into: target.database) }
                if target.counted { commits += commit }
            })
        if let target = previous {
            built = try check(target, pairs: pairs)
            previous = nil
            try remove(target)
        }

        let counted = Double(pairs.count * size.rounds)
        let runnelRate = counted / sides.runnel.elapsed.seconds
        let baselineRate = counted / sides.baseline.elapsed.seconds
        let inputBytes = Double(pairs.totalKeyBytes + pairs.totalValueBytes)
        let runnelMBs = inputBytes * Double(size.rounds) / sides.runnel.elapsed.seconds / 1e6
        let baselineMBs = inputBytes * Double(size.rounds) / sides.baseline.elapsed.seconds / 1e6
        let valueAverage = Double(pairs.totalValueBytes) / Double(pairs.count)
        let sizeRatio = Double(built.runnelFileBytes) / Double(built.baselineDatabaseBytes)
        let commitShare = commits.seconds / sides.baseline.elapsed.seconds
        let runnelBuild = sides.runnel.latency.summary
        let baselineBuild = sides.baseline.latency.summary
        let roundRatios = sides.roundRatios
        let mebibyte = Double(1 << 20)
        return SideBySideMeasurement(
            runnel: runnelRate,
            baseline: baselineRate,
            runnelLatency: runnelBuild,
            baselineLatency: baselineBuild,
            detail: [
                Figure("runnel_keys_per_s", runnelRate),
                Figure("baseline_keys_per_s", baselineRate),
                Figure("runnel_input_mb_per_s", runnelMBs),
                Figure("baseline_input_mb_per_s", baselineMBs),
                Figure("baseline_commit_share", commitShare),
                Figure("keys", pairs.count),
                Figure("key_bytes", KVBenchPairs.keyLength),
                Figure("value_bytes_avg", valueAverage),
                Figure("runnel_file_bytes", built.runnelFileBytes),
                Figure("baseline_db_bytes", built.baselineDatabaseBytes),
                Figure("baseline_wal_bytes_after_commit", built.baselineWALBytes),
                Figure("file_size_ratio", sizeRatio),
                Figure("rounds", size.rounds),
                Figure("round_ratio_min", roundRatios.min),
                Figure("round_ratio_median", roundRatios.median),
                Figure("round_ratio_max", roundRatios.max),
                Figure("warm_up_rounds", interleaving.warmUpRounds),
                Figure("result_check_passed", 1),
            ],
            note: "latencies per whole build; \(size.rounds) rounds × \(pairs.count) keys a side (\(KVBenchPairs.keyLength) B key, "
                + "\(FigureFormat.display(valueAverage)) B JSON value, key order), each into a new store / database; "
                + "build ms p50 runnel \(FigureFormat.display(runnelBuild.p50 / 1000)), SQLite \(FigureFormat.display(baselineBuild.p50 / 1000)) "
                + "(one transaction; its commit, fsyncing the WAL and then checkpointing it into the database file, "
                + "takes \(FigureFormat.display(commitShare * 100))% of that); "
                + "runnel \(FigureFormat.display(runnelRate)) keys/s = \(FigureFormat.display(runnelMBs)) MB/s of input, "
                + "SQLite \(FigureFormat.display(baselineRate)) keys/s; "
                + "file \(FigureFormat.display(Double(built.runnelFileBytes) / mebibyte)) MiB vs SQLite "
                + "\(FigureFormat.display(Double(built.baselineDatabaseBytes) / mebibyte)) MiB (×\(FigureFormat.display(sizeRatio)); "
                + "WAL after commit \(FigureFormat.display(Double(built.baselineWALBytes) / mebibyte)) MiB); "
                + "every version verified, sample of 1/\(Self.sampleStride) keys read back from both: same values; "
                + "round ratios \(FigureFormat.displayRatio(roundRatios.min))–\(FigureFormat.displayRatio(roundRatios.max))")
    }

    /// Checks what a round built on both sides: the version verifies completely, both answer a
    /// sample of keys with the values written, the table holds every pair. Then moves the
    /// table out of the WAL, to measure the database file.
    private func check(_ target: Target, pairs: KVBenchPairs) throws -> Built {
        var built = Built()
        let store = try KVStore(folder: target.folder)
        let snapshot = store.snapshot()
        try snapshot.verify()
        guard snapshot.keyCount == pairs.count else {
            throw BenchmarkError("\(name): version \(snapshot.version) holds \(snapshot.keyCount) keys; \(pairs.count) went in")
        }
        built.runnelFileBytes = snapshot.manifest.fileSize
        built.baselineWALBytes = (try? PlainFile.size(of: URL(fileURLWithPath: target.databaseURL.path + "-wal"))) ?? 0
        let rows = try target.database.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM kv") } ?? 0
        guard rows == pairs.count else {
            throw BenchmarkError("\(name): the SQLite table holds \(rows) rows; \(pairs.count) pairs went in")
        }
        try KVBenchSQLite.withLookup(target.database) { lookup in
            for index in stride(from: 0, to: pairs.count, by: Self.sampleStride) {
                let key = pairs.key(index), expected = pairs.value(index)
                let runnel = try store.get(key), baseline = try lookup.value(forKey: key)
                guard runnel == expected, baseline == expected else {
                    throw BenchmarkError("\(name): key \(String(decoding: key, as: UTF8.self)) was written with \(String(decoding: expected, as: UTF8.self)); "
                        + "runnel returns \(runnel.map { String(decoding: $0, as: UTF8.self) } ?? "nothing"), "
                        + "SQLite \(baseline.map { String(decoding: $0, as: UTF8.self) } ?? "nothing")")
                }
            }
        }
        try KVBenchSQLite.checkpoint(target.database)
        built.baselineDatabaseBytes = try KVBenchSQLite.fileSize(target.databaseURL)
        return built
    }

    /// Closes a round's database and removes it and the store folder.
    private func remove(_ target: Target) throws {
        try target.database.close()
        try FileManager.default.removeItem(at: target.folder.url)
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: target.databaseURL.path + suffix) {
            try FileManager.default.removeItem(atPath: target.databaseURL.path + suffix)
        }
    }
}
