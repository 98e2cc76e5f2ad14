import Foundation
import Runnel
import RunnelTesting

/// `log-recovery`: opening a log for writing after an unclean stop, against a hand-written
/// CRC-32C check of the very bytes that open checks, both from a cold page cache.
///
/// The project's goal asks that a 1 GiB log open in at most a second after a kill (the goal
/// "open ≤ 1 s"). The ratio goal is 1: opening must be at least as fast as checking the same
/// tail by hand, though it also rebuilds index entries and rewrites each checkpoint.
///
/// The log is written once (four partitions of 64 MiB segments, relay-cycle batches of
/// ``OutboxRelay/Configuration/batchSize`` records, an fsync per batch), flushed and never
/// closed: no clean-shutdown marker, each partition's recovery checkpoint wherever the last
/// flush or roll left it. The `Log` is then released, which drops its lock. Before each side
/// of every round (untimed) the checkpoints are put back as the writer left them, so every
/// open and every scan covers the same tails, and every file of the log is dropped from the
/// page cache (``PlainFile/dropFromPageCache(_:)``, checked with `mincore`), so both read
/// the disk as an open after a reboot does.
///
/// Runnel's side times ``Log/open(_:durability:)``. Per partition it checks, CRC and records,
/// every batch from the last offset-index entry below the checkpoint to the end of that
/// segment and every later segment whole (``LogLoader``), reads the last batch header of each
/// earlier segment to learn where it ends, and records a new checkpoint. The baseline
/// (``LogBatchScanner``) does what a hand-written recovery of these files must: it reads each
/// partition's checkpoint file and that segment's offset index, then walks and CRC-32C-checks
/// the same batches with the same CRC function. The bytes past the checkpoints must match
/// what Runnel reports scanning.
///
/// Beside them: both sides warm (nothing dropped), which leaves Runnel's CPU and fsyncs; a
/// CRC-32C scan of every byte of the log (this scenario's earlier baseline), once cold and
/// warm; and, after the log is closed cleanly, the time of a clean open.
struct LogRecoveryScenario: Scenario {
    let name = "log-recovery"
    let summary = "opening a log after an unclean stop vs a hand-written CRC-32C check of the same tail bytes, both from a cold page cache"
    let unit = "open ms"
    let goal = 1.0
    var direction: Direction { .lowerIsBetter }

    /// How much one run does.
    struct Size {
        /// Bytes to write, spread over the partitions.
        var logBytes: Int
        /// Counted rounds, each opening once and scanning once.
        var rounds: Int
    }

    /// The size of a quick or a full run.
    static func size(quick: Bool) -> Size {
        quick ? Size(logBytes: 256 << 20, rounds: 4) : Size(logBytes: 1 << 30, rounds: 6)
    }

    private static let topic = "bench-recovery"
    private static let partitions = 4
    /// Records per batch, as a relay cycle appends them, and their value size (about 1.5 MB a batch).
    private static let recordsPerBatch = OutboxRelay.Configuration().batchSize
    private static let valueBytes = 280
    /// The file in each partition folder recording its recovery checkpoint (`PartitionLog`).
    private static let checkpointFile = "recovery-checkpoint"
    private static let cleanShutdownMarker = ".clean-shutdown"
    /// Clean opens timed after the rounds.
    private static let cleanOpens = 3
    /// Warm opens and tail scans timed after the rounds.
    private static let warmRounds = 3
    /// Warm full scans timed after the rounds.
    private static let warmFullScans = 3
    /// The most of a segment file the page cache may still hold after a drop before a round is refused.
    private static let residentAfterDropLimit = 0.05

    func run(quick: Bool) throws -> SideBySideMeasurement {
        let home = try TemporaryHome(label: "bench-log-recovery")
        return try withExtendedLifetime(home) { try measure(in: home.folder, size: Self.size(quick: quick)) }
    }

    /// What the writer left.
    private struct Written {
        /// Each partition's end offset.
        var endOffsets: [Int64]
        /// Bytes of every segment file.
        var bytes: Int
        /// Each partition's folder.
        var partitionFolders: [URL]
        /// The segment files, every partition's, oldest first.
        var segments: [URL]
        /// Each partition's recovery checkpoint file and its contents.
        var checkpoints: [(url: URL, contents: Data)]
    }

    /// What checking the tails by hand covered (the same every round: the checkpoints are put back).
    private struct TailScan {
        /// Bytes read and CRC-checked: from the index entry below each checkpoint on.
        var scannedBytes = 0
        /// The part of them past the checkpoints: what Runnel reports as scanned.
        var pastCheckpointBytes = 0
        /// Bytes Runnel reads, unchecked, of the last batches of each segment before the
        /// checkpoint's to learn where those segments end (counted, not read, by the baseline).
        var closedTailBytes = 0
    }

    private func measure(in folder: URL, size: Size) throws -> SideBySideMeasurement {
        let logURL = folder.appendingPathComponent("log", isDirectory: true)
        let written = try writeWithoutClosing(logURL, bytes: size.logBytes)
        guard !FileManager.default.fileExists(atPath: logURL.appendingPathComponent(Self.cleanShutdownMarker).path) else {
            throw BenchmarkError("\(name): the log was left with a clean-shutdown marker")
        }
        let logFiles = try PlainFile.files(under: logURL)
        var residentAfterDrop = 0.0
        // Before each side (untimed): the checkpoints as the writer left them (an open moves
        // them to the end), then every file of the log out of the page cache.
        func prepared() throws {
            for checkpoint in written.checkpoints { try checkpoint.contents.write(to: checkpoint.url) }
            try PlainFile.dropFromPageCache(logFiles)
            let resident = try PlainFile.residentFraction(of: written.segments)
            residentAfterDrop = max(residentAfterDrop, resident)
            guard resident <= Self.residentAfterDropLimit else {
                throw BenchmarkError("\(name): \(Int(resident * 100))% of the segment files stayed in the page cache after dropping them")
            }
        }

        let scanner = LogBatchScanner()
        var runnelScanned: Set<Int> = []
        var baselineScans: [TailScan] = []
        let interleaving = Interleaving(rounds: size.rounds, warmUpRounds: 1)
        let sides = try interleaving.run(
            input: { _ in () },
            runnel: { _, tally in
                try prepared()
                // Opening fails with `logLocked` unless the previous round's log was released.
                let log = try tally.time { try Log.open(logURL) }
                runnelScanned.insert(try check(log, written: written))
            },
            baseline: { _, tally in
                try prepared()
                baselineScans.append(try tally.time { try Self.scanTails(written.partitionFolders, scanner: scanner) })
            })
        try prepared()
        let tail = try Self.scanTails(written.partitionFolders, scanner: scanner, countClosedTails: true)
        guard runnelScanned.count == 1, let scannedPerOpen = runnelScanned.first,
              baselineScans.allSatisfy({ $0.pastCheckpointBytes == scannedPerOpen && $0.scannedBytes == tail.scannedBytes }) else {
            throw BenchmarkError("\(name): Runnel's opens scanned \(runnelScanned.sorted()) bytes past the checkpoints, "
                + "the baseline \(Set(baselineScans.map(\.pastCheckpointBytes)).sorted())")
        }

        // The same work warm, untimed round first: what the cold rounds spent waiting for the
        // disk, and what is left (CPU, fsyncs of the new checkpoints).
        var warmOpens: [Double] = []
        var warmScans: [Double] = []
        for round in 0...Self.warmRounds {
            for checkpoint in written.checkpoints { try checkpoint.contents.write(to: checkpoint.url) }
            let open = try Self.milliseconds { _ = try check(Log.open(logURL), written: written) }
            for checkpoint in written.checkpoints { try checkpoint.contents.write(to: checkpoint.url) }
            let scan = try Self.milliseconds { _ = try Self.scanTails(written.partitionFolders, scanner: scanner) }
            if round > 0 {
                warmOpens.append(open)
                warmScans.append(scan)
            }
        }
        let warmOpenMs = warmOpens.sorted()[warmOpens.count / 2]
        let warmScanMs = warmScans.sorted()[warmScans.count / 2]

        // The earlier baseline: every byte of the log, cold once, then warm.
        try prepared()
        let (coldFullScanMs, _) = try Self.fullScan(written)
        var warmFullScans: [Double] = []
        for _ in 0..<Self.warmFullScans { warmFullScans.append(try Self.fullScan(written).ms) }
        let warmFullScanMs = warmFullScans.sorted()[warmFullScans.count / 2]

        let cleanOpen = try timeCleanOpens(logURL, written: written)
        let runnelMs = sides.runnel.latency.summary.p50 / 1000
        let baselineMs = sides.baseline.latency.summary.p50 / 1000
        let meetsGoal = runnelMs <= 1000
        let scanMBs = Double(tail.scannedBytes) / (baselineMs / 1000) / 1e6
        let display = FigureFormat.display
        let mib = { (bytes: Int) in display(Double(bytes) / Double(1 << 20)) }
        let note = [
            "median of \(size.rounds) opens and scans a side, each from a cold page cache (≤ \(display(residentAfterDrop * 100))% left after dropping)",
            "\(mib(written.bytes)) MiB in \(Self.partitions) partitions, \(written.segments.count) segments",
            "both check \(mib(tail.scannedBytes)) MiB (\(mib(scannedPerOpen)) MiB past the checkpoints, "
                + "\(mib(tail.scannedBytes - scannedPerOpen)) MiB back to the index entry below them), the baseline at \(display(scanMBs)) MB/s",
            "runnel also reads \(tail.closedTailBytes) bytes of closed segments' last batches (their headers, for batches over 64 KiB)",
            "warm (nothing dropped) runnel \(display(warmOpenMs)) ms, baseline \(display(warmScanMs)) ms",
            "clean open \(display(cleanOpen)) ms",
            "CRC-32C of the whole log (the old baseline) \(display(warmFullScanMs)) ms warm, \(display(coldFullScanMs)) ms cold",
        ].joined(separator: "; ")
        return SideBySideMeasurement(
            runnel: runnelMs,
            baseline: baselineMs,
            runnelLatency: sides.runnel.latency.summary,
            baselineLatency: sides.baseline.latency.summary,
            goals: [Goal("open ≤ 1 s", met: meetsGoal)],
            detail: [
                Figure("runnel_open_ms", runnelMs),
                Figure("baseline_scan_ms", baselineMs),
                Figure("runnel_warm_open_ms", warmOpenMs),
                Figure("baseline_warm_scan_ms", warmScanMs),
                Figure("clean_open_ms", cleanOpen),
                Figure("old_baseline_full_scan_ms", warmFullScanMs),
                Figure("full_scan_cold_ms", coldFullScanMs),
                Figure("log_bytes", written.bytes),
                Figure("partitions", Self.partitions),
                Figure("segments", written.segments.count),
                Figure("scanned_bytes_per_open", scannedPerOpen),
                Figure("baseline_scanned_bytes", tail.scannedBytes),
                Figure("closed_segment_tail_bytes", tail.closedTailBytes),
                Figure("baseline_scan_mb_per_s", scanMBs),
                Figure("cold_resident_after_drop_max_pct", residentAfterDrop * 100),
                Figure("records_per_batch", Self.recordsPerBatch),
                Figure("rounds", size.rounds),
            ],
            note: note)
    }

    /// Writes the log, flushing every batch, and releases it without closing it: the state a
    /// kill leaves after the last fsync.
    private func writeWithoutClosing(_ logURL: URL, bytes: Int) throws -> Written {
        let log = try Log.open(logURL)
        let topic = try log.createTopic(Self.topic, TopicConfiguration(partitions: Self.partitions))
        var random = SeededGenerator(seed: 0x0EC0_7E57)
        let records = (0..<Self.recordsPerBatch).map { index in
            LogRecord(timestamp: 1_750_006_400_000 + Int64(index), key: Array(String(format: "key-%06d", index).utf8),
                      value: (0..<Self.valueBytes).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        }
        var batch = 0
        while topic.partitions.reduce(0, { $0 + $1.sizeInBytes }) < bytes {
            let partition = topic.partitions[batch % Self.partitions]
            try partition.append(records)
            try partition.flush()
            batch += 1
        }
        var written = Written(endOffsets: topic.partitions.map(\.endOffset), bytes: 0, partitionFolders: topic.partitions.map(\.folder),
                              segments: [], checkpoints: [])
        for partition in topic.partitions {
            written.segments += try PlainFile.segmentFiles(in: partition.folder)
            let url = partition.folder.appendingPathComponent(Self.checkpointFile)
            written.checkpoints.append((url, try Data(contentsOf: url)))
        }
        written.bytes = try written.segments.reduce(0) { $0 + (try PlainFile.size(of: $1)) }
        guard written.bytes == topic.partitions.reduce(0, { $0 + $1.sizeInBytes }) else {
            throw BenchmarkError("\(name): the segment files hold \(written.bytes) bytes, the partitions count \(topic.partitions.reduce(0) { $0 + $1.sizeInBytes })")
        }
        return written
    }

    /// Checks that an opened log holds everything written and recovered nothing away.
    /// - Returns: The bytes it scanned past the checkpoints.
    private func check(_ log: Log, written: Written) throws -> Int {
        guard let topic = try log.topic(Self.topic), topic.partitions.map(\.endOffset) == written.endOffsets,
              topic.partitions.reduce(0, { $0 + $1.sizeInBytes }) == written.bytes else {
            throw BenchmarkError("\(name): the log opened with end offsets \(try log.topic(Self.topic)?.partitions.map(\.endOffset) ?? []), "
                + "expected \(written.endOffsets); recovery: \(log.recoveryReports)")
        }
        guard log.recoveryReports.count == Self.partitions, log.recoveryReports.allSatisfy({ $0.truncatedBytes == 0 }) else {
            throw BenchmarkError("\(name): expected an intact tail checked in each of \(Self.partitions) partitions; recovery: \(log.recoveryReports)")
        }
        return log.recoveryReports.reduce(0) { $0 + $1.scannedBytes }
    }

    /// Checks each partition's tail by hand, as ``LogLoader`` chooses it: from the checkpoint
    /// file's segment and position, backed up to the last offset-index entry below that
    /// position (where Runnel's scan starts, to rebuild the index entries after it), to the end
    /// of that segment, then every later segment whole; each batch's CRC-32C checked.
    /// - Parameter countClosedTails: Also count the bytes Runnel reads at the end of earlier
    ///   segments (reading their indexes: not part of the timed baseline).
    private static func scanTails(_ partitionFolders: [URL], scanner: LogBatchScanner, countClosedTails: Bool = false) throws -> TailScan {
        var scan = TailScan()
        for folder in partitionFolders {
            let url = folder.appendingPathComponent(checkpointFile)
            let fields = String(decoding: try Data(contentsOf: url), as: UTF8.self).split(whereSeparator: \.isWhitespace)
            guard fields.count == 2, let checkpointSegment = Int64(fields[0]), let checkpointPosition = Int(fields[1]) else {
                throw BenchmarkError("\(url.path) is not `<segment> <position>`")
            }
            for segment in try PlainFile.segmentFiles(in: folder) {
                guard let base = Int64(segment.deletingPathExtension().lastPathComponent) else {
                    throw BenchmarkError("\(segment.path) is not named by its base offset")
                }
                let size = try PlainFile.size(of: segment)
                let index = segment.deletingPathExtension().appendingPathExtension("index")
                guard base >= checkpointSegment else {
                    if countClosedTails {
                        // Runnel reads the span from the last index entry whole when it is short
                        // and a batch header at a time when it is long (in practice one batch: a
                        // new index entry comes every 4 KiB of batches).
                        let span = size - (try lastIndexPosition(index, below: .max))
                        scan.closedTailBytes += span > 64 << 10 ? RecordBatch.headerSize : span
                    }
                    continue
                }
                let checked = base == checkpointSegment ? min(checkpointPosition, size) : 0
                let start = checked > 0 ? try lastIndexPosition(index, below: checked) : 0
                try scanner.start(segment, from: start, to: size)
                while try scanner.next() != nil {}
                scan.scannedBytes += size - start
                scan.pastCheckpointBytes += size - checked
            }
        }
        return scan
    }

    /// The position of the last entry of an offset index (8-byte big-endian entries: relative
    /// offset, position) whose position is below `limit`, or 0; entries end where they stop growing.
    private static func lastIndexPosition(_ url: URL, below limit: Int) throws -> Int {
        let size = try PlainFile.size(of: url)
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 8), alignment: 8)
        defer { bytes.deallocate() }
        let count = try PlainFile.openForReading(url).fill(UnsafeMutableRawBufferPointer(rebasing: bytes[..<size]), from: 0)
        var found = 0
        var previous: (offset: Int32, position: Int32) = (-1, -1)
        for entry in stride(from: 0, to: count - count % 8, by: 8) {
            let offset = Int32(bigEndian: bytes.loadUnaligned(fromByteOffset: entry, as: Int32.self))
            let position = Int32(bigEndian: bytes.loadUnaligned(fromByteOffset: entry + 4, as: Int32.self))
            guard offset > previous.offset, position > previous.position, Int(position) < limit else { break }
            found = Int(position)
            previous = (offset, position)
        }
        return found
    }

    /// Reads every segment file in 1 MiB chunks and checksums every byte: what opening would
    /// cost without recovery checkpoints (and this scenario's earlier baseline).
    /// - Returns: How long it took, in milliseconds, and the CRC-32C.
    private static func fullScan(_ written: Written) throws -> (ms: Double, crc: UInt32) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        let clock = ContinuousClock()
        let start = clock.now
        var bytes = 0
        var crc: UInt32 = 0
        for url in written.segments {
            let file = try PlainFile.openForReading(url)
            while true {
                let count = try file.readNext(into: buffer)
                if count == 0 { break }
                crc = CRC32C.update(crc, UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                bytes += count
            }
        }
        guard bytes == written.bytes else { throw BenchmarkError("a full scan read \(bytes) bytes of \(written.bytes)") }
        return ((clock.now - start).seconds * 1000, crc)
    }

    /// How long `body` takes, in milliseconds.
    private static func milliseconds(_ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try body()
        return (clock.now - start).seconds * 1000
    }

    /// Closes the log cleanly, then opens it a few times, closing it cleanly after each.
    /// - Returns: The median time of a clean open, in milliseconds.
    private func timeCleanOpens(_ logURL: URL, written: Written) throws -> Double {
        try Log.open(logURL).close()
        var times: [Double] = []
        for _ in 0..<Self.cleanOpens {
            let clock = ContinuousClock()
            let start = clock.now
            let log = try Log.open(logURL)
            times.append((clock.now - start).seconds * 1000)
            guard log.recoveryReports.isEmpty, try log.topic(Self.topic)?.partitions.map(\.endOffset) == written.endOffsets else {
                throw BenchmarkError("\(name): a clean open scanned or lost records: \(log.recoveryReports)")
            }
            try log.close()
        }
        return times.sorted()[times.count / 2]
    }
}
