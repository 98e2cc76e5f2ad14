import Foundation
import Runnel
import RunnelTesting

/// `log-append-100b`, `log-append-1k` and `log-append-100b-nofsync`: appending keyed records to
/// one partition, against writing the same bytes to a plain file with `write` (and `fsync`).
///
/// The project's goal asks for at least 1M records/s with 100-byte records (the goal
/// "≥ 1M records/s", with an fsync per batch) and, for 1 KiB records, at least 70% of the raw
/// sequential write bandwidth measured in the same run: a ratio of at least 0.7. The other
/// variants use the same ratio.
///
/// Runnel's side calls ``PartitionLog/append(_:now:)`` with a batch of records, then
/// ``PartitionLog/flush()`` (the log's `.everyBatch` durability: an fsync per batch). The
/// baseline writes the bytes ``RecordBatch/encode(_:baseOffset:keepingOffsets:lastOffsetDelta:)`` makes of the same batch at the
/// same offset, encoded before timing, to a plain file in the same folder and fsyncs it: the
/// disk's own cost, with none of Runnel's encoding, indexes or bookkeeping. After the run the
/// segment file and the plain file must hold the same bytes.
///
/// An fsync takes far longer than encoding a batch, so it hides what Runnel's own code costs.
/// The `-nofsync` variant takes it out of both sides: the log is opened with `.interval`
/// durability of an hour and Runnel's side calls ``Log/flush(force:)`` after each append, as
/// the relay does after each cycle (with that durability it returns without an fsync); the
/// baseline only writes. Both then measure CPU and page-cache copying.
struct LogAppendScenario: Scenario {
    let name: String
    let summary: String
    let unit: String
    let goal = 0.7
    /// Value bytes per record; keys are 10 bytes.
    let valueBytes: Int
    /// Whether each batch is fsynced (on both sides).
    let fsyncs: Bool

    /// 100-byte values, reported in records per second.
    static let hundredBytes = LogAppendScenario(
        name: "log-append-100b", valueBytes: 100, unit: "records/s",
        summary: "appending 100-byte records to a partition (fsync per 1,000-record batch) vs write+fsync of the same bytes")
    /// 1 KiB values, reported in megabytes per second.
    static let oneKiB = LogAppendScenario(
        name: "log-append-1k", valueBytes: 1024, unit: "MB/s",
        summary: "appending 1 KiB records to a partition (fsync per 1,000-record batch) vs write+fsync of the same bytes")
    /// 100-byte values with no fsync on either side: Runnel's CPU cost against a `write` alone.
    static let hundredBytesNoFsync = LogAppendScenario(
        name: "log-append-100b-nofsync", valueBytes: 100, fsyncs: false, unit: "records/s",
        summary: "appending 100-byte records to a partition without fsync (.interval durability) vs write of the same bytes")

    private init(name: String, valueBytes: Int, fsyncs: Bool = true, unit: String, summary: String) {
        self.name = name
        self.valueBytes = valueBytes
        self.fsyncs = fsyncs
        self.unit = unit
        self.summary = summary
    }

    /// How much one run does.
    struct Size {
        /// Counted rounds, each running both sides.
        var rounds: Int
        /// Batches per side and round.
        var batchesPerRound: Int
        /// Records per batch (one `append` and one fsync).
        var recordsPerBatch: Int
    }

    /// The size of a quick or a full run.
    func size(quick: Bool) -> Size {
        // A 1,000-record batch is about 118 KB (100-byte values) or 1.04 MB (1 KiB values); an
        // fsync of either takes a fraction of a millisecond to a few on a VM's disk. Everything
        // written stays in one segment (the topic's segments are 1 GiB): a full 1 KiB run writes
        // about 650 MB a side.
        // Without fsyncs a batch takes well under a millisecond: more of them keep rounds long
        // enough to time (about 370 MB a side in a full run).
        let batches = !fsyncs ? (quick: 50, full: 100) : valueBytes <= 100 ? (quick: 20, full: 40) : (quick: 6, full: 20)
        return quick ? Size(rounds: 10, batchesPerRound: batches.quick, recordsPerBatch: 1_000)
                     : Size(rounds: 30, batchesPerRound: batches.full, recordsPerBatch: 1_000)
    }

    func run(quick: Bool) throws -> SideBySideMeasurement {
        let home = try TemporaryHome(label: "bench-\(name)")
        return try withExtendedLifetime(home) { try measure(in: home.folder, size: size(quick: quick)) }
    }

    private func measure(in folder: URL, size: Size) throws -> SideBySideMeasurement {
        // Without fsyncs, an interval longer than the run: `Log/flush(force:)` then never syncs.
        let log = try Log.open(folder.appendingPathComponent("log", isDirectory: true),
                               durability: fsyncs ? .everyBatch : .interval(milliseconds: 3_600_000))
        let topic = try log.createTopic("bench-append", TopicConfiguration(partitions: 1, segmentBytes: 1 << 30))
        let partition = topic.partitions[0]
        let baselineURL = folder.appendingPathComponent("baseline.log")
        let baselineFile = try PlainFile.create(baselineURL)

        let interleaving = Interleaving(rounds: size.rounds, warmUpRounds: 1)
        var bytesPerSide = 0
        var countedBytesPerSide = 0
        let sides = try interleaving.run(
            input: { number in
                let input = round(number, size: size)
                bytesPerSide += input.bytes
                if number >= interleaving.warmUpRounds { countedBytesPerSide += input.bytes }
                return input
            },
            runnel: { input, tally in
                for (index, batch) in input.batches.enumerated() {
                    let base = try tally.time {
                        let base = try partition.append(batch)
                        if fsyncs { try partition.flush() } else { try log.flush() }
                        return base
                    }
                    guard base == input.baseOffsets[index] else {
                        throw BenchmarkError("\(name): a batch got offset \(base), expected \(input.baseOffsets[index])")
                    }
                }
            },
            baseline: { input, tally in
                for bytes in input.encoded {
                    try tally.time {
                        try baselineFile.append(bytes)
                        if fsyncs { try baselineFile.sync() }
                    }
                }
            })

        // Same work: the same records at the same offsets, and byte for byte the same file.
        let records = (interleaving.warmUpRounds + interleaving.rounds) * size.batchesPerRound * size.recordsPerBatch
        let segments = try PlainFile.segmentFiles(in: partition.folder)
        guard partition.endOffset == Int64(records), segments.count == 1,
              partition.sizeInBytes == bytesPerSide, try PlainFile.size(of: baselineURL) == bytesPerSide else {
            throw BenchmarkError("\(name): the two sides wrote different things: partition end offset \(partition.endOffset) "
                + "in \(segments.count) segments of \(partition.sizeInBytes) bytes, baseline file \(try PlainFile.size(of: baselineURL)) bytes; "
                + "expected \(records) records, \(bytesPerSide) bytes, one segment")
        }
        guard try PlainFile.sameContents(segments[0], baselineURL) else {
            throw BenchmarkError("\(name): the segment file \(segments[0].path) differs from the baseline's bytes")
        }
        try log.close()

        let countedRecords = sides.runnel.operations * size.recordsPerBatch
        guard sides.baseline.operations * size.recordsPerBatch == countedRecords else {
            throw BenchmarkError("\(name): \(sides.runnel.operations) batches timed on Runnel's side, \(sides.baseline.operations) on the baseline's")
        }
        let runnelRecordRate = Double(countedRecords) / sides.runnel.elapsed.seconds
        let baselineRecordRate = Double(countedRecords) / sides.baseline.elapsed.seconds
        let runnelMBs = Double(countedBytesPerSide) / sides.runnel.elapsed.seconds / 1e6
        let baselineMBs = Double(countedBytesPerSide) / sides.baseline.elapsed.seconds / 1e6
        let batchBytes = Double(countedBytesPerSide) / Double(sides.runnel.operations)
        let roundRatios = sides.roundRatios
        // The absolute goal is for 100-byte records with an fsync per batch; the others have
        // only the ratio.
        let inRecords = unit == "records/s"
        let goals = inRecords && fsyncs ? [Goal("≥ 1M records/s", met: runnelRecordRate >= 1_000_000)] : []
        let syncNote = fsyncs ? "append+fsync" : "append+flush without fsync vs write alone"
        return SideBySideMeasurement(
            runnel: inRecords ? runnelRecordRate : runnelMBs,
            baseline: inRecords ? baselineRecordRate : baselineMBs,
            runnelLatency: sides.runnel.latency.summary,
            baselineLatency: sides.baseline.latency.summary,
            goals: goals,
            detail: [
                Figure("runnel_records_per_s", runnelRecordRate),
                Figure("baseline_records_per_s", baselineRecordRate),
                Figure("runnel_mb_per_s", runnelMBs),
                Figure("baseline_mb_per_s", baselineMBs),
                Figure("records_per_side", countedRecords),
                Figure("batches_per_side", sides.runnel.operations),
                Figure("records_per_batch", size.recordsPerBatch),
                Figure("batch_bytes_avg", batchBytes),
                Figure("value_bytes", valueBytes),
                Figure("rounds", size.rounds),
                Figure("round_ratio_min", roundRatios.min),
                Figure("round_ratio_median", roundRatios.median),
                Figure("round_ratio_max", roundRatios.max),
                Figure("warm_up_rounds", interleaving.warmUpRounds),
            ],
            note: "latencies per batch (\(syncNote)); \(size.rounds) rounds × \(size.batchesPerRound) batches of \(size.recordsPerBatch) records "
                + "(10 B key, \(valueBytes) B value, \(FigureFormat.display(batchBytes / 1000)) KB a batch) a side; "
                + "runnel \(FigureFormat.display(runnelRecordRate)) records/s = \(FigureFormat.display(runnelMBs)) MB/s, "
                + "baseline \(FigureFormat.display(baselineRecordRate)) records/s = \(FigureFormat.display(baselineMBs)) MB/s; "
                + "round ratios \(FigureFormat.displayRatio(roundRatios.min))–\(FigureFormat.displayRatio(roundRatios.max)); "
                + "segment byte-identical to the baseline file")
    }
}
