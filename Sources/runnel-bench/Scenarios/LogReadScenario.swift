import Foundation
import Runnel
import RunnelTesting

/// `log-read`: a consumer reading a whole partition from the start, every record parsed in place, against
/// reading the same segment files with plain `read` calls in 1 MiB chunks.
///
/// The project sets no figure for reading. The goal is a ratio of 0.5: parsing and checking
/// batches costs what a raw read never pays, but a consumer reading at half the speed of the
/// bare files still keeps far ahead of any relay or pipeline feeding it.
///
/// The partition is written once, before the rounds, with records shaped as the relay writes
/// them (a member id as key, a 200-byte JSON event as value, the relay's four headers), 2,000 to
/// a batch, in 64 MiB segments. Runnel's side opens the log
/// read-only, as a consumer in another process would, and calls
/// ``PartitionLog/forEachRecord(from:maxBytes:_:)`` with 1 MiB at a time from offset 0 to the end
/// (batches are CRC-checked and every record parsed, values read in place); one more pass with
/// ``PartitionLog/read(from:maxBytes:)``, which copies each record out, is reported beside it.
/// The baseline reads each segment file from start to end. Both read from the page cache: the
/// files were just written and a benchmark cannot drop the cache, so this measures CPU cost, not
/// the disk.
struct LogReadScenario: Scenario {
    let name = "log-read"
    let summary = "reading a partition from the start, decoding every record, vs plain reads of its segment files"
    let unit = "MB/s"
    let goal = 0.5

    /// How much one run does.
    struct Size {
        /// Bytes to write to the partition before reading.
        var partitionBytes: Int
        /// Counted rounds, each reading the whole partition once per side.
        var rounds: Int
    }

    /// The size of a quick or a full run.
    static func size(quick: Bool) -> Size {
        quick ? Size(partitionBytes: 50_000_000, rounds: 4) : Size(partitionBytes: 200_000_000, rounds: 6)
    }

    /// Records per appended batch: 2,000, as the relay's full cycles write (about 580 KB).
    private static let recordsPerBatch = 2_000
    /// Segments of the default size, so a pass crosses segment boundaries as consumers do.
    private static let segmentBytes = TopicConfiguration().segmentBytes
    /// The read size of both sides.
    private static let chunkBytes = 1 << 20

    func run(quick: Bool) throws -> SideBySideMeasurement {
        let home = try TemporaryHome(label: "bench-log-read")
        return try withExtendedLifetime(home) { try measure(in: home.folder, size: Self.size(quick: quick)) }
    }

    /// What was written: what every pass must read back.
    private struct Written {
        var records: Int
        var valueBytes: Int
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
        guard end == Int64(written.records),
              try segments.reduce(0, { $0 + (try PlainFile.size(of: $1)) }) == partitionBytes else {
            throw BenchmarkError("\(name): the read-only log sees \(end) records in \(partitionBytes) bytes; \(written.records) were written")
        }

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkBytes, alignment: 16)
        defer { buffer.deallocate() }
        let interleaving = Interleaving(rounds: size.rounds, warmUpRounds: 1)
        let sides = try interleaving.run(
            input: { _ in () },
            runnel: { _, tally in
                // The in-place path consumers use (`forEachRecord`): batches CRC-checked, every
                // record parsed, values handed out without copies.
                var offset: Int64 = 0
                var records = 0
                var valueBytes = 0
                while offset < end {
                    let next = try tally.time {
                        try partition.forEachRecord(from: offset, maxBytes: Self.chunkBytes) { record in
                            records += 1
                            valueBytes += record.value?.count ?? 0
                            return true
                        }
                    }
                    guard next > offset else {
                        throw BenchmarkError("\(name): reading from offset \(offset) of \(end) (segments \(partition.segmentSummaries)) returned nothing")
                    }
                    offset = next
                }
                guard records == written.records, valueBytes == written.valueBytes else {
                    throw BenchmarkError("\(name): a pass decoded \(records) records of \(valueBytes) value bytes; \(written.records) of \(written.valueBytes) were written")
                }
            },
            baseline: { _, tally in
                var bytes = 0
                for url in segments {
                    let file = try PlainFile.openForReading(url)
                    while true {
                        let count = try tally.time { try file.readNext(into: buffer) }
                        if count == 0 { break }
                        bytes += count
                    }
                }
                guard bytes == partitionBytes else {
                    throw BenchmarkError("\(name): the baseline read \(bytes) bytes of a \(partitionBytes)-byte partition")
                }
            })

        // One more pass through `read(from:)`, which copies every record into an owned value.
        let ownedStart = ContinuousClock.now
        var ownedOffset: Int64 = 0
        while ownedOffset < end, let last = try partition.read(from: ownedOffset, maxBytes: Self.chunkBytes).last {
            ownedOffset = last.offset + 1
        }
        let ownedMBs = Double(partitionBytes) / (ContinuousClock.now - ownedStart).seconds / 1e6

        let passes = Double(interleaving.rounds)
        let runnelMBs = passes * Double(partitionBytes) / sides.runnel.elapsed.seconds / 1e6
        let baselineMBs = passes * Double(partitionBytes) / sides.baseline.elapsed.seconds / 1e6
        let runnelRecordRate = passes * Double(written.records) / sides.runnel.elapsed.seconds
        let roundRatios = sides.roundRatios
        return SideBySideMeasurement(
            runnel: runnelMBs,
            baseline: baselineMBs,
            runnelLatency: sides.runnel.latency.summary,
            baselineLatency: sides.baseline.latency.summary,
            detail: [
                Figure("runnel_records_per_s", runnelRecordRate),
                Figure("owned_records_mb_per_s", ownedMBs),
                Figure("partition_bytes", partitionBytes),
                Figure("segments", segments.count),
                Figure("records", written.records),
                Figure("record_bytes_avg", Double(partitionBytes) / Double(written.records)),
                Figure("reads_per_pass", sides.runnel.operations / interleaving.rounds),
                Figure("rounds", size.rounds),
                Figure("round_ratio_min", roundRatios.min),
                Figure("round_ratio_median", roundRatios.median),
                Figure("round_ratio_max", roundRatios.max),
                Figure("warm_up_rounds", interleaving.warmUpRounds),
            ],
            note: "latencies per 1 MiB read; \(size.rounds) passes a side over \(FigureFormat.display(Double(partitionBytes) / 1e6)) MB "
                + "(\(written.records) records of \(FigureFormat.display(Double(partitionBytes) / Double(written.records))) B in \(segments.count) segments); "
                + "runnel \(FigureFormat.display(runnelRecordRate)) records/s parsed in place (\(FigureFormat.display(ownedMBs)) MB/s copying each record out); "
                + "both sides read warm from the page cache (it cannot be dropped), so this compares CPU cost; "
                + "round ratios \(FigureFormat.displayRatio(roundRatios.min))–\(FigureFormat.displayRatio(roundRatios.max))")
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
