import Foundation
import Runnel
import RunnelTesting

/// `log-recovery`: opening a log for writing after an unclean stop, against reading and
/// CRC-checking every byte of it, which is what opening would cost without recovery checkpoints.
///
/// The project's goal asks that a 1 GiB log open in at most a second after a kill, an absolute figure
/// (in the detail). The ratio goal is 1: opening must be at least as fast as a full scan.
///
/// The log is written once (four partitions of 64 MiB segments, an fsync per batch), flushed and
/// never closed: no clean-shutdown marker, each partition's recovery checkpoint wherever the last
/// flush or roll left it. The `Log` is then released, which drops its lock. Runnel's side times
/// ``Log/open(_:durability:)``, which checks each partition's tail past its checkpoint and
/// rewrites the checkpoint; before every round the checkpoints are put back as the writer left
/// them, so each open recovers the same tails. The baseline reads every segment file in 1 MiB
/// chunks and runs ``CRC32C/checksum(_:)`` over them. The files were just written, so both read
/// from the page cache: a full scan from a cold disk would take longer still. After the rounds,
/// the log is closed cleanly and opened again, for the time of a clean open.
struct LogRecoveryScenario: Scenario {
    let name = "log-recovery"
    let summary = "opening a log after an unclean stop (scanning past recovery checkpoints) vs reading and CRC-checking all of it"
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
    /// Records per batch, and their value size: relay-sized batches of about 600 KB.
    private static let recordsPerBatch = 2_000
    private static let valueBytes = 280
    /// The file in each partition folder recording its recovery checkpoint (`PartitionLog`).
    private static let checkpointFile = "recovery-checkpoint"
    private static let cleanShutdownMarker = ".clean-shutdown"
    /// Clean opens timed after the rounds.
    private static let cleanOpens = 3

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
        /// The segment files, every partition's, oldest first.
        var segments: [URL]
        /// Each partition's recovery checkpoint file and its contents.
        var checkpoints: [(url: URL, contents: Data)]
    }

    private func measure(in folder: URL, size: Size) throws -> SideBySideMeasurement {
        let logURL = folder.appendingPathComponent("log", isDirectory: true)
        let written = try writeWithoutClosing(logURL, bytes: size.logBytes)
        guard !FileManager.default.fileExists(atPath: logURL.appendingPathComponent(Self.cleanShutdownMarker).path) else {
            throw BenchmarkError("\(name): the log was left with a clean-shutdown marker")
        }

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var scannedBytes = 0
        let interleaving = Interleaving(rounds: size.rounds, warmUpRounds: 1)
        let sides = try interleaving.run(
            input: { _ in
                for checkpoint in written.checkpoints { try checkpoint.contents.write(to: checkpoint.url) }
            },
            runnel: { _, tally in
                // Opening fails with `logLocked` unless the previous round's log was released.
                let log = try tally.time { try Log.open(logURL) }
                scannedBytes += try check(log, written: written)
            },
            baseline: { _, tally in
                let (bytes, _) = try tally.time { try Self.scan(written.segments, buffer: buffer) }
                guard bytes == written.bytes else {
                    throw BenchmarkError("\(name): the full scan read \(bytes) bytes of \(written.bytes)")
                }
            })

        let cleanOpen = try timeCleanOpens(logURL, written: written)
        let runnelMs = sides.runnel.latency.summary.p50 / 1000
        let baselineMs = sides.baseline.latency.summary.p50 / 1000
        let scannedPerOpen = Double(scannedBytes) / Double(interleaving.warmUpRounds + interleaving.rounds)
        let meetsGoal = runnelMs <= 1000
        let scanMBs = Double(written.bytes) / (baselineMs / 1000) / 1e6
        return SideBySideMeasurement(
            runnel: runnelMs,
            baseline: baselineMs,
            runnelLatency: sides.runnel.latency.summary,
            baselineLatency: sides.baseline.latency.summary,
            detail: [
                Figure("runnel_open_ms", runnelMs),
                Figure("baseline_scan_ms", baselineMs),
                Figure("design_1s_open_met", meetsGoal ? 1 : 0),
                Figure("clean_open_ms", cleanOpen),
                Figure("log_bytes", written.bytes),
                Figure("partitions", Self.partitions),
                Figure("segments", written.segments.count),
                Figure("scanned_bytes_per_open", scannedPerOpen),
                Figure("baseline_scan_mb_per_s", scanMBs),
                Figure("rounds", size.rounds),
            ],
            note: "median of \(size.rounds) opens and scans a side; \(FigureFormat.display(Double(written.bytes) / Double(1 << 20))) MiB in "
                + "\(Self.partitions) partitions, \(written.segments.count) segments; "
                + "unclean open \(FigureFormat.display(runnelMs)) ms (goal ≤ 1 s: \(meetsGoal ? "met" : "not met")), "
                + "scanning \(FigureFormat.display(scannedPerOpen / Double(1 << 20))) MiB past the checkpoints; clean open \(FigureFormat.display(cleanOpen)) ms; "
                + "full scan \(FigureFormat.display(baselineMs)) ms = \(FigureFormat.display(scanMBs)) MB/s, warm from the page cache")
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
        var written = Written(endOffsets: topic.partitions.map(\.endOffset), bytes: 0, segments: [], checkpoints: [])
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

    /// Reads files in 1 MiB chunks and checksums them, as a full scan must.
    /// - Returns: The bytes read and their CRC-32C.
    private static func scan(_ files: [URL], buffer: UnsafeMutableRawBufferPointer) throws -> (bytes: Int, crc: UInt32) {
        var bytes = 0
        var crc: UInt32 = 0
        for url in files {
            let file = try PlainFile.openForReading(url)
            while true {
                let count = try file.readNext(into: buffer)
                if count == 0 { break }
                crc = CRC32C.update(crc, UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                bytes += count
            }
        }
        return (bytes, crc)
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
