import Foundation
import GRDB
import Runnel
import RunnelTesting

/// `kv-build`: building a version of a KV store from N pairs, against bulk-loading the same
/// pairs into a new SQLite file and publishing it whole, the way a competent user would for a
/// dataset that is rebuilt and published at once.
///
/// The goal is a ratio of 2: a store that is rebuilt whole from a pipeline's output should be
/// written at least twice as fast as the fastest way to get the same rows into a durable SQLite
/// table that appears whole or not at all, or the KV file format would not pay for itself.
///
/// The pairs are ``KVBenchPairs``: member ids as 8-digit text, a JSON object of about 100
/// bytes each, in key order (the order a pipeline writes its store in, and SQLite's fastest).
/// Runnel's side calls ``KVStoreFolder/build(pipeline:pipelineVersion:sourceOffsets:keep:_:)``
/// and adds each pair with ``KVDataFileWriter/add(key:value:)`` (raw buffers, no copies): the
/// records, the hash index, the per-block CRC-32Cs and the SHA-256 are written, the file and
/// manifest fsynced, the folder renamed to `v1` and `CURRENT` switched.
///
/// The baseline, timed as a whole, is ``KVBenchSQLite/bulkLoad(_:to:pageSize:)``: a temporary
/// file with 64 KiB pages, a page cache of twice the input, `journal_mode = OFF` and
/// `synchronous = OFF`; every pair inserted into
/// `CREATE TABLE kv (key BLOB PRIMARY KEY, value BLOB) WITHOUT ROWID` in key order with one
/// prepared statement in one transaction (SQLite's C API); the connection closed; then one
/// fsync of the file, its rename into place and an fsync of the folder. A crash at any point
/// leaves either no table or the whole table at its name, as a crash during a KV build leaves
/// either the old version or the new one.
///
/// Beside it, in the detail and not in the ratio, the previous baseline: the same inserts into
/// a database committing as Runnel's own databases do (WAL, `synchronous = FULL`, the default
/// 2 MiB cache; ``KVBenchSQLite/insert(_:into:)``), which writes every page twice (into the WAL,
/// then into the database file at the automatic checkpoint that runs inside the commit); its
/// time runs from the first insert to the end of the commit. It runs once per round in the gap
/// before the two timed sides.
///
/// Every round builds into a new store folder and new database files, made and removed
/// between rounds (not timed), so every side always starts from nothing. After every round the
/// version is verified completely (``KVSnapshot/verify()``: every block's CRC, the SHA-256, every
/// key reachable), both tables are counted, the bulk-loaded file's page size is checked, and a
/// sample of keys is read back from all three and compared with what was written; a
/// difference fails the scenario.
struct KVBuildScenario: Scenario {
    let name = "kv-build"
    let summary = "building a KV store version of member-feature pairs (hash index, CRCs, SHA-256, fsync, CURRENT switch) vs bulk-loading them into a new SQLite WITHOUT ROWID table (no journal, one fsync, rename)"
    let unit = "keys/s"
    let goal = 2.0

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

    /// Where one round builds: a store folder, the bulk-loaded file's place, and a WAL
    /// database of its own.
    private struct Target {
        /// Whether the round is counted (not the warm-up).
        var counted: Bool
        var folder: KVStoreFolder
        /// Where the bulk load publishes its file.
        var databaseURL: URL
        /// The database of the WAL/FULL inserts (the detail figure).
        var walDatabaseURL: URL
        var walDatabase: DatabaseQueue
    }

    /// What a built round left on disk.
    private struct Built {
        var runnelFileBytes = 0
        var baselineDatabaseBytes = 0
        var walDatabaseBytes = 0
        var walBytesAfterCommit = 0
    }

    /// The WAL/FULL inserts' times over the counted rounds.
    private struct WALInserts {
        var elapsed: Duration = .zero
        var commits: Duration = .zero
    }

    private func measure(in root: URL, size: Size) throws -> SideBySideMeasurement {
        let pairs = KVBenchPairs(count: size.keys)
        let interleaving = Interleaving(rounds: size.rounds, warmUpRounds: 1)
        var previous: Target?
        var built = Built()
        var publishing: Duration = .zero
        var cacheKiB = 0
        var wal = WALInserts()
        let sides = try interleaving.run(
            input: { round in
                if let target = previous {
                    built = try check(target, pairs: pairs)
                    previous = nil
                    try remove(target)
                }
                let walDatabaseURL = root.appendingPathComponent("wal-\(round).sqlite")
                let walDatabase = try KVBenchSQLite.open(walDatabaseURL)
                try walDatabase.write { try $0.execute(sql: KVBenchSQLite.createTable) }
                let target = Target(counted: round >= interleaving.warmUpRounds,
                                    folder: try KVStoreFolder(url: root.appendingPathComponent("bench-kv-\(round)", isDirectory: true)),
                                    databaseURL: root.appendingPathComponent("baseline-\(round).sqlite"),
                                    walDatabaseURL: walDatabaseURL, walDatabase: walDatabase)
                previous = target
                // The previous baseline, in the gap before the timed sides.
                let start = ContinuousClock.now
                let commit = try KVBenchSQLite.insert(pairs, into: walDatabase)
                if target.counted {
                    wal.elapsed += ContinuousClock.now - start
                    wal.commits += commit
                }
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
                let load = try tally.time { try KVBenchSQLite.bulkLoad(pairs, to: target.databaseURL) }
                cacheKiB = load.cacheKiB
                if target.counted { publishing += load.publish }
            })
        if let target = previous {
            built = try check(target, pairs: pairs)
            previous = nil
            try remove(target)
        }

        let counted = Double(pairs.count * size.rounds)
        let runnelRate = counted / sides.runnel.elapsed.seconds
        let baselineRate = counted / sides.baseline.elapsed.seconds
        let walRate = counted / wal.elapsed.seconds
        let inputBytes = Double(pairs.totalKeyBytes + pairs.totalValueBytes)
        let runnelMBs = inputBytes * Double(size.rounds) / sides.runnel.elapsed.seconds / 1e6
        let baselineMBs = inputBytes * Double(size.rounds) / sides.baseline.elapsed.seconds / 1e6
        let valueAverage = Double(pairs.totalValueBytes) / Double(pairs.count)
        let sizeRatio = Double(built.runnelFileBytes) / Double(built.baselineDatabaseBytes)
        let publishShare = publishing.seconds / sides.baseline.elapsed.seconds
        let walCommitShare = wal.commits.seconds / wal.elapsed.seconds
        let runnelBuild = sides.runnel.latency.summary
        let baselineBuild = sides.baseline.latency.summary
        let roundRatios = sides.roundRatios
        let mebibyte = Double(1 << 20)
        let display = FigureFormat.display
        return SideBySideMeasurement(
            runnel: runnelRate,
            baseline: baselineRate,
            runnelLatency: runnelBuild,
            baselineLatency: baselineBuild,
            detail: [
                Figure("runnel_keys_per_s", runnelRate),
                Figure("baseline_keys_per_s", baselineRate),
                Figure("wal_full_keys_per_s", walRate),
                Figure("ratio_to_wal_full", runnelRate / walRate),
                Figure("runnel_input_mb_per_s", runnelMBs),
                Figure("baseline_input_mb_per_s", baselineMBs),
                Figure("baseline_publish_share", publishShare),
                Figure("wal_full_commit_share", walCommitShare),
                Figure("baseline_page_size", KVBenchSQLite.bulkPageSize),
                Figure("baseline_cache_kib", cacheKiB),
                Figure("keys", pairs.count),
                Figure("key_bytes", KVBenchPairs.keyLength),
                Figure("value_bytes_avg", valueAverage),
                Figure("runnel_file_bytes", built.runnelFileBytes),
                Figure("baseline_db_bytes", built.baselineDatabaseBytes),
                Figure("wal_full_db_bytes", built.walDatabaseBytes),
                Figure("wal_full_wal_bytes_after_commit", built.walBytesAfterCommit),
                Figure("file_size_ratio", sizeRatio),
                Figure("rounds", size.rounds),
                Figure("round_ratio_min", roundRatios.min),
                Figure("round_ratio_median", roundRatios.median),
                Figure("round_ratio_max", roundRatios.max),
                Figure("warm_up_rounds", interleaving.warmUpRounds),
                Figure("result_check_passed", 1),
            ],
            note: [
                "latencies per whole build; \(size.rounds) rounds × \(pairs.count) keys a side (\(KVBenchPairs.keyLength) B key, ",
                "\(display(valueAverage)) B JSON value, key order), each into a new store / file; ",
                "build ms p50 runnel \(display(runnelBuild.p50 / 1000)), SQLite bulk load \(display(baselineBuild.p50 / 1000)) ",
                "(\(KVBenchSQLite.bulkPageSize / 1024) KiB pages, \(display(Double(cacheKiB) / 1024)) MiB cache, journal and sync off, ",
                "one transaction, then fsync + rename + folder fsync: \(display(publishShare * 100))% of its time); ",
                "runnel \(display(runnelRate)) keys/s = \(display(runnelMBs)) MB/s of input; ",
                "previous baseline, WAL + synchronous=FULL, default cache: \(display(walRate)) keys/s ",
                "(runnel ×\(FigureFormat.displayRatio(runnelRate / walRate)); commit and checkpoint \(display(walCommitShare * 100))% of it); ",
                "file \(display(Double(built.runnelFileBytes) / mebibyte)) MiB vs SQLite ",
                "\(display(Double(built.baselineDatabaseBytes) / mebibyte)) MiB (×\(display(sizeRatio))), ",
                "WAL/FULL \(display(Double(built.walDatabaseBytes) / mebibyte)) MiB + ",
                "\(display(Double(built.walBytesAfterCommit) / mebibyte)) MiB WAL after commit; ",
                "every version verified, sample of 1/\(Self.sampleStride) keys read back from all three: same values; ",
                "round ratios \(FigureFormat.displayRatio(roundRatios.min))–\(FigureFormat.displayRatio(roundRatios.max))",
            ].joined())
    }

    /// Checks what a round built on every side: the version verifies completely, both tables
    /// hold every pair, the bulk-loaded file has the page size it was given, and all three
    /// answer a sample of keys with the values written. Then moves the WAL database's table out
    /// of its WAL, to measure its file.
    private func check(_ target: Target, pairs: KVBenchPairs) throws -> Built {
        var built = Built()
        let store = try KVStore(folder: target.folder)
        let snapshot = store.snapshot()
        try snapshot.verify()
        guard snapshot.keyCount == pairs.count else {
            throw BenchmarkError("\(name): version \(snapshot.version) holds \(snapshot.keyCount) keys; \(pairs.count) went in")
        }
        built.runnelFileBytes = snapshot.manifest.fileSize
        built.walBytesAfterCommit = (try? PlainFile.size(of: URL(fileURLWithPath: target.walDatabaseURL.path + "-wal"))) ?? 0
        let published = try KVBenchSQLite.openReadOnly(target.databaseURL)
        defer { try? published.close() }
        let pageSize = try published.read { try Int.fetchOne($0, sql: "PRAGMA page_size") } ?? 0
        guard pageSize == KVBenchSQLite.bulkPageSize else {
            throw BenchmarkError("\(name): the bulk-loaded file has \(pageSize)-byte pages; it was made with \(KVBenchSQLite.bulkPageSize)")
        }
        for (table, database) in [("bulk-loaded", published), ("WAL/FULL", target.walDatabase)] {
            let rows = try database.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM kv") } ?? 0
            guard rows == pairs.count else {
                throw BenchmarkError("\(name): the \(table) SQLite table holds \(rows) rows; \(pairs.count) pairs went in")
            }
        }
        try KVBenchSQLite.withLookup(published) { bulk in
            try KVBenchSQLite.withLookup(target.walDatabase) { wal in
                func text(_ bytes: [UInt8]?) -> String { bytes.map { String(decoding: $0, as: UTF8.self) } ?? "nothing" }
                for index in stride(from: 0, to: pairs.count, by: Self.sampleStride) {
                    let key = pairs.key(index), expected = pairs.value(index)
                    let runnel = try store.get(key), baseline = try bulk.value(forKey: key), walValue = try wal.value(forKey: key)
                    guard runnel == expected, baseline == expected, walValue == expected else {
                        throw BenchmarkError("\(name): key \(text(key)) was written with \(text(expected)); runnel returns \(text(runnel)), "
                            + "bulk-loaded SQLite \(text(baseline)), WAL/FULL SQLite \(text(walValue))")
                    }
                }
            }
        }
        built.baselineDatabaseBytes = try KVBenchSQLite.fileSize(target.databaseURL)
        try KVBenchSQLite.checkpoint(target.walDatabase)
        built.walDatabaseBytes = try KVBenchSQLite.fileSize(target.walDatabaseURL)
        return built
    }

    /// Closes a round's WAL database and removes it, the bulk-loaded file and the store folder.
    private func remove(_ target: Target) throws {
        try target.walDatabase.close()
        try FileManager.default.removeItem(at: target.folder.url)
        for path in ["", "-wal", "-shm"].map({ target.walDatabaseURL.path + $0 }) + [target.databaseURL.path]
        where FileManager.default.fileExists(atPath: path) {
            try FileManager.default.removeItem(atPath: path)
        }
    }
}
