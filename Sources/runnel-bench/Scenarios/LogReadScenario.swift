import Foundation
import Runnel
import RunnelTesting

/// `log-read`: a consumer reading a whole partition from the start, every record parsed in
/// place, against a hand-written reader of the same segment files doing the same checks.
///
/// The goal is a ratio of 0.8, and at least 3M records/s read in place: Runnel's reader may
/// cost up to a quarter more than the least a careful reader of these files must do.
///
/// The partition is written once, before the rounds, with records shaped as the relay writes
/// them (a member id as key, a 200-byte JSON event as value, the relay's four headers), as
/// many to a batch as a relay cycle holds (``OutboxRelay/Configuration/batchSize``, 5,000 by
/// default), in 64 MiB segments. Runnel's side opens the log read-only, as a consumer in
/// another process would, and calls ``PartitionLog/forEachRecord(from:maxBytes:_:)`` 1 MiB
/// at a time from offset 0 to the end: batches are CRC-checked and every record parsed, values
/// read in place. The baseline is ``LogBatchScanner``: `pread` of each segment file into one
/// reused buffer, each batch's length, magic byte and CRC-32C checked with the same CRC-32C
/// function, and every record walked in place (its length, deltas, key, value and headers'
/// bytes), 1 MiB of batches per timed read as Runnel's side reads. Both sides count the
/// records and value bytes they see, which must match what was written.
///
/// Warm passes (the files in the page cache, as a consumer keeping up with the writer reads
/// them) give the headline, which compares CPU cost. Cold passes follow, each side's preceded
/// by dropping the partition's files from the page cache (``PlainFile/dropFromPageCache(_:)``,
/// untimed, checked with `mincore`): a consumer catching up on a backlog. One more warm pass
/// through ``PartitionLog/read(from:maxBytes:)``, which copies each record out, and a plain
/// `read` of the files with no checks at all (this scenario's earlier baseline) are reported
/// beside them.
struct LogReadScenario: Scenario {
    let name = "log-read"
    let summary = "reading a partition from the start, every record parsed in place, vs a hand-written reader (pread, CRC-32C per batch, records walked)"
    let unit = "MB/s"
    let goal = 0.8

    /// How much one run does.
    struct Size {
        /// Bytes to write to the partition before reading.
        var partitionBytes: Int
        /// Counted warm rounds, each reading the whole partition once per side.
        var rounds: Int
        /// Counted cold rounds, each dropping the files and reading them once per side.
        var coldRounds: Int
    }

    /// The size of a quick or a full run.
    static func size(quick: Bool) -> Size {
        quick ? Size(partitionBytes: 50_000_000, rounds: 4, coldRounds: 2) : Size(partitionBytes: 200_000_000, rounds: 6, coldRounds: 4)
    }

    /// Records per appended batch: a relay cycle's (about 1.4 MB of these records).
    private static let recordsPerBatch = OutboxRelay.Configuration().batchSize
    /// Segments of the default size, so a pass crosses segment boundaries as consumers do.
    private static let segmentBytes = TopicConfiguration().segmentBytes
    /// The read size of both sides: ``PartitionLog/forEachRecord(from:maxBytes:_:)``'s default.
    private static let chunkBytes = 1 << 20
    /// The most of a file the page cache may still hold after a drop before a cold pass is refused.
    private static let residentAfterDropLimit = 0.05

    func run(quick: Bool) throws -> SideBySideMeasurement {
        let home = try TemporaryHome(label: "bench-log-read")
        return try withExtendedLifetime(home) { try measure(in: home.folder, size: Self.size(quick: quick)) }
    }

    /// What was written: what every pass must read back.
    private struct Written {
        var records: Int
        var valueBytes: Int
    }

    /// What one pass saw, compared with ``Written`` after it.
    private struct Seen {
        var records = 0
        var valueBytes = 0
        var lastOffset: Int64 = -1
    }

    private func measure(in folder: URL, size: Size) throws -> SideBySideMeasurement {
        let logURL = folder.appendingPathComponent("log", isDirectory: true)
        let written = try write(logURL, bytes: size.partitionBytes)
        let log = try Log.openForReading(logURL)
        guard let partition = try log.topic(BenchEvent.topic)?.partitions.first else {
            throw BenchmarkError("\(name): the partition just written is not there")
        }
        let partitionBytes = partition.sizeInBytes
        let end = partition.endOffset
        let segments = try PlainFile.segmentFiles(in: partition.folder)
        let partitionFiles = try PlainFile.files(under: partition.folder)
        guard end == Int64(written.records),
              try segments.reduce(0, { $0 + (try PlainFile.size(of: $1)) }) == partitionBytes else {
            throw BenchmarkError("\(name): the read-only log sees \(end) records in \(partitionBytes) bytes; \(written.records) were written")
        }
        let scanner = LogBatchScanner(chunkBytes: Self.chunkBytes)

        // Warm: the headline.
        let interleaving = Interleaving(rounds: size.rounds, warmUpRounds: 1)
        let sides = try interleaving.run(
            input: { _ in () },
            runnel: { _, tally in try check(runnelPass(partition, end: end, tally: &tally), written) },
            baseline: { _, tally in try check(baselinePass(scanner, segments, tally: &tally), written) })

        // One more pass through `read(from:)`, which copies every record into an owned value.
        let ownedStart = ContinuousClock.now
        var ownedOffset: Int64 = 0
        while ownedOffset < end, let last = try partition.read(from: ownedOffset, maxBytes: Self.chunkBytes).last {
            ownedOffset = last.offset + 1
        }
        let ownedMBs = Double(partitionBytes) / (ContinuousClock.now - ownedStart).seconds / 1e6
        let rawMBs = try rawReadMBs(segments, bytes: partitionBytes)

        // Cold: each side's pass from the disk. Interleaving's elapsed time would count the
        // drop, so each pass is timed apart from it.
        var coldTimes: [(runnel: Duration, baseline: Duration)] = []
        var coldRound = (runnel: Duration.zero, baseline: Duration.zero)
        var residentAfterDrop = 0.0
        func dropped() throws {
            try PlainFile.dropFromPageCache(partitionFiles)
            let resident = try PlainFile.residentFraction(of: segments)
            residentAfterDrop = max(residentAfterDrop, resident)
            guard resident <= Self.residentAfterDropLimit else {
                throw BenchmarkError("\(name): \(Int(resident * 100))% of the segment files stayed in the page cache after dropping them")
            }
        }
        let clock = ContinuousClock()
        let coldInterleaving = Interleaving(rounds: size.coldRounds, warmUpRounds: 0)
        let coldSides = try coldInterleaving.run(
            input: { round in
                if round > 0 { coldTimes.append(coldRound) }
            },
            runnel: { _, tally in
                try dropped()
                let start = clock.now
                try check(runnelPass(partition, end: end, tally: &tally), written)
                coldRound.runnel = clock.now - start
            },
            baseline: { _, tally in
                try dropped()
                let start = clock.now
                try check(baselinePass(scanner, segments, tally: &tally), written)
                coldRound.baseline = clock.now - start
            })
        coldTimes.append(coldRound)

        let passes = Double(interleaving.rounds)
        let runnelMBs = passes * Double(partitionBytes) / sides.runnel.elapsed.seconds / 1e6
        let baselineMBs = passes * Double(partitionBytes) / sides.baseline.elapsed.seconds / 1e6
        let runnelRecordRate = passes * Double(written.records) / sides.runnel.elapsed.seconds
        let baselineRecordRate = passes * Double(written.records) / sides.baseline.elapsed.seconds
        let coldPasses = Double(coldTimes.count)
        let coldRunnelMBs = coldPasses * Double(partitionBytes) / coldTimes.reduce(Duration.zero, { $0 + $1.runnel }).seconds / 1e6
        let coldBaselineMBs = coldPasses * Double(partitionBytes) / coldTimes.reduce(Duration.zero, { $0 + $1.baseline }).seconds / 1e6
        let coldRatios = coldTimes.map { $0.baseline / $0.runnel }.sorted()
        let roundRatios = sides.roundRatios
        let meetsRecordRate = runnelRecordRate >= 3_000_000
        let display = FigureFormat.display
        let note = [
            "latencies per read of 1 MiB of batches",
            "\(size.rounds) warm passes a side over \(display(Double(partitionBytes) / 1e6)) MB (\(written.records) records of "
                + "\(display(Double(partitionBytes) / Double(written.records))) B, \(Self.recordsPerBatch) a batch, in \(segments.count) segments)",
            "runnel \(display(runnelRecordRate)) records/s parsed in place (\(display(ownedMBs)) MB/s copying each record out)",
            "cold from the disk (page cache dropped before each side, ≤ \(display(residentAfterDrop * 100))% left): runnel \(display(coldRunnelMBs)) MB/s, "
                + "baseline \(display(coldBaselineMBs)) MB/s, ratio \(FigureFormat.displayRatio(coldRunnelMBs / coldBaselineMBs)) over \(coldTimes.count) rounds",
            "plain reads with no checks (the old baseline) \(display(rawMBs)) MB/s warm",
            "round ratios \(FigureFormat.displayRatio(roundRatios.min))–\(FigureFormat.displayRatio(roundRatios.max))",
        ].joined(separator: "; ")
        return SideBySideMeasurement(
            runnel: runnelMBs,
            baseline: baselineMBs,
            runnelLatency: sides.runnel.latency.summary,
            baselineLatency: sides.baseline.latency.summary,
            goals: [Goal("≥ 3M records/s", met: meetsRecordRate)],
            detail: [
                Figure("runnel_records_per_s", runnelRecordRate),
                Figure("baseline_records_per_s", baselineRecordRate),
                Figure("cold_runnel_mb_per_s", coldRunnelMBs),
                Figure("cold_baseline_mb_per_s", coldBaselineMBs),
                Figure("cold_ratio", coldRunnelMBs / coldBaselineMBs),
                Figure("cold_round_ratio_min", coldRatios.first ?? 0),
                Figure("cold_round_ratio_max", coldRatios.last ?? 0),
                Figure("cold_rounds", coldTimes.count),
                Figure("cold_resident_after_drop_max_pct", residentAfterDrop * 100),
                Figure("cold_runnel_read_p50_us", coldSides.runnel.latency.summary.p50),
                Figure("cold_baseline_read_p50_us", coldSides.baseline.latency.summary.p50),
                Figure("owned_records_mb_per_s", ownedMBs),
                Figure("old_baseline_raw_read_mb_per_s", rawMBs),
                Figure("partition_bytes", partitionBytes),
                Figure("segments", segments.count),
                Figure("records", written.records),
                Figure("records_per_batch", Self.recordsPerBatch),
                Figure("record_bytes_avg", Double(partitionBytes) / Double(written.records)),
                Figure("reads_per_pass", sides.runnel.operations / interleaving.rounds),
                Figure("baseline_reads_per_pass", sides.baseline.operations / interleaving.rounds),
                Figure("rounds", size.rounds),
                Figure("round_ratio_min", roundRatios.min),
                Figure("round_ratio_median", roundRatios.median),
                Figure("round_ratio_max", roundRatios.max),
                Figure("warm_up_rounds", interleaving.warmUpRounds),
            ],
            note: note)
    }

    /// Reads the partition through Runnel, in place, 1 MiB at a time, timing each read.
    private func runnelPass(_ partition: PartitionLog, end: Int64, tally: inout Tally) throws -> Seen {
        var seen = Seen()
        var offset: Int64 = 0
        while offset < end {
            let next = try tally.time {
                try partition.forEachRecord(from: offset, maxBytes: Self.chunkBytes) { record in
                    seen.records += 1
                    seen.valueBytes += record.value?.count ?? 0
                    seen.lastOffset = record.offset
                    return true
                }
            }
            guard next > offset else {
                throw BenchmarkError("\(name): reading from offset \(offset) of \(end) (segments \(partition.segmentSummaries)) returned nothing")
            }
            offset = next
        }
        return seen
    }

    /// Reads the segment files with the hand-written reader, timing each read of at least
    /// 1 MiB of batches (the rule `maxBytes` follows on Runnel's side).
    private func baselinePass(_ scanner: LogBatchScanner, _ segments: [URL], tally: inout Tally) throws -> Seen {
        var seen = Seen()
        for url in segments {
            try scanner.start(url)
            while !scanner.atEnd {
                try tally.time {
                    var bytes = 0
                    while bytes < Self.chunkBytes, let batch = try scanner.next() {
                        try LogBatchScanner.walkRecords(batch) { record in
                            seen.records += 1
                            seen.valueBytes += record.value?.count ?? 0
                            seen.lastOffset = record.offset
                        }
                        bytes += batch.count
                    }
                }
            }
        }
        return seen
    }

    /// Checks that a pass saw every record written, and nothing else.
    private func check(_ seen: Seen, _ written: Written) throws {
        guard seen.records == written.records, seen.valueBytes == written.valueBytes, seen.lastOffset == Int64(written.records) - 1 else {
            throw BenchmarkError("\(name): a pass saw \(seen.records) records of \(seen.valueBytes) value bytes up to offset \(seen.lastOffset); "
                + "\(written.records) of \(written.valueBytes) were written")
        }
    }

    /// Reads the segment files with plain `read` calls and no checks, three times, warm.
    /// - Returns: The median rate in MB/s: what this scenario's baseline used to be.
    private func rawReadMBs(_ segments: [URL], bytes: Int) throws -> Double {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkBytes, alignment: 16)
        defer { buffer.deallocate() }
        var rates: [Double] = []
        for _ in 0..<3 {
            let start = ContinuousClock.now
            var read = 0
            for url in segments {
                let file = try PlainFile.openForReading(url)
                while case let count = try file.readNext(into: buffer), count > 0 { read += count }
            }
            guard read == bytes else { throw BenchmarkError("\(name): the plain reads got \(read) bytes of \(bytes)") }
            rates.append(Double(bytes) / (ContinuousClock.now - start).seconds / 1e6)
        }
        return rates.sorted()[1]
    }

    /// Writes relay-shaped records to a new log until it holds `bytes`, and closes it cleanly.
    private func write(_ logURL: URL, bytes: Int) throws -> Written {
        let log = try Log.open(logURL)
        let partition = try log.createTopic(BenchEvent.topic, TopicConfiguration(segmentBytes: Self.segmentBytes)).partitions[0]
        // A thousand distinct payloads, used in turn: encoding every event would take longer
        // than reading them.
        let payloads = try (0..<1_000).map { try BenchEvent(Int64($0)).json() }
        var written = Written(records: 0, valueBytes: 0)
        while partition.sizeInBytes < bytes {
            let records = (0..<Self.recordsPerBatch).map { index -> LogRecord in
                let sequence = written.records + index
                let event = BenchEvent(Int64(sequence))
                let payload = payloads[sequence % payloads.count]
                return LogRecord(timestamp: event.at.millisecondsSince1970, key: Array(event.key.utf8), value: payload, headers: [
                    RecordHeader(OutboxRelay.Header.outboxID, String(sequence + 1)),
                    RecordHeader(OutboxRelay.Header.source, DatabaseRole.app.rawValue),
                    RecordHeader(OutboxRelay.Header.type, BenchEvent.type),
                    RecordHeader(OutboxRelay.Header.schemaVersion, "1"),
                ])
            }
            try partition.append(records)
            try partition.flush()
            written.records += records.count
            written.valueBytes += records.reduce(0) { $0 + ($1.value?.count ?? 0) }
        }
        try log.close()
        return written
    }
}
