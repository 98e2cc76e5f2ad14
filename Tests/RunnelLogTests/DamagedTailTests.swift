import Foundation
@testable import Runnel
import RunnelTesting
import Testing

/// One rule for a damaged tail, whether the log stopped cleanly or not: bytes past the recovery
/// checkpoint that are not whole, valid batches are cut and reported; a damaged batch the
/// checkpoint covers (flushed, handed out) is never cut at open, and the partition refuses
/// appends until it is repaired.
@Suite struct DamagedTailTests {
    enum Stop: String, CaseIterable, CustomTestStringConvertible {
        /// `Log.close()`: checkpoints at the ends and the clean-shutdown marker.
        case clean
        /// The partition's checkpoint moved to the end (as after 16 MiB flushed), no marker.
        case uncleanWithCheckpoint
        /// No checkpoint at all (a fresh partition that crashed before its first).
        case uncleanWithoutCheckpoint
        var testDescription: String { rawValue }
    }

    /// Writes three flushed batches of three records to `folder` and stops the way `stop` says.
    /// - Returns: The segment file and the byte where each batch starts, plus the end.
    private func write(_ folder: URL, stop: Stop) throws -> (segment: URL, batchStarts: [Int]) {
        let log = try Log.open(folder)
        let partition = try log.createTopic("events").partitions[0]
        var starts = [0]
        for batch in 0..<3 {
            try partition.append((0..<3).map { record(batch * 3 + $0, size: 30) })
            try partition.flush()
            starts.append(partition.sizeInBytes)
        }
        switch stop {
        case .clean: try log.close()
        case .uncleanWithCheckpoint: try partition.close()
        case .uncleanWithoutCheckpoint:
            // A partition's first checkpoint comes with its first roll or 16 MiB.
            #expect(!FileManager.default.fileExists(atPath: partition.folder.appendingPathComponent(RecoveryCheckpoint.fileName).path))
        }
        if stop != .clean { try FileManager.default.removeItem(at: folder.appendingPathComponent(Log.lockName)) }
        let segment = partition.folder.appendingPathComponent(LogSegment.name(0, "log"))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(Log.cleanShutdownName).path) == (stop == .clean))
        return (segment, starts)
    }

    private func appendBytes(_ bytes: [UInt8], to file: URL) throws {
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    @Test(arguments: Stop.allCases)
    func garbageAfterTheLastBatchIsCutAndReportedWithFileOffsetAndBytes(stop: Stop) throws {
        let temporary = try TemporaryHome(label: "garbage-\(stop)")
        let folder = temporary.folder.appendingPathComponent("log")
        let (segment, starts) = try write(folder, stop: stop)
        let end = starts[3]
        // A batch header claiming 80 more bytes, then zeros: not a batch.
        try appendBytes([0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 80] + [UInt8](repeating: 0, count: 80), to: segment)

        let log = try Log.open(folder)
        let report = try #require(log.recoveryReports.first)
        #expect(report.cleanStop == (stop == .clean))
        #expect(report.truncatedBytes == 92)
        #expect(report.needsAttention)
        #expect(report.refusedDamage == nil)
        #expect(report.damage?.file.path == segment.path)
        #expect(report.damage?.position == end)
        #expect(report.description.contains("torn tail truncated after \(stop == .clean ? "a clean" : "an unclean") stop: 92 bytes"))
        #expect(report.description.contains("\(segment.path) at byte \(end)"))
        let partition = try #require(try log.topic("events")).partitions[0]
        #expect(try Data(contentsOf: segment).count == end)
        #expect(try readAll(partition).map(\.offset) == Array(0..<9))
        try partition.append([record(9)])
        try log.close()

        // The cut is made once: the next open, after a clean stop, finds nothing to say.
        let again = try Log.open(folder)
        #expect(again.recoveryReports.isEmpty)
        #expect(try #require(try again.topic("events")).partitions[0].endOffset == 10)
        try again.close()
    }

    /// Opening checks records in place, not only checksums: a batch whose CRC is right but whose
    /// record's headers run past the record (written by something other than Runnel) is cut too.
    @Test(arguments: Stop.allCases)
    func aBatchWithAGoodChecksumAndRecordsThatDoNotParseIsCut(stop: Stop) throws {
        let temporary = try TemporaryHome(label: "bad-records-\(stop)")
        let folder = temporary.folder.appendingPathComponent("log")
        let (segment, starts) = try write(folder, stop: stop)
        // The next batch, its one record ending in the header section 02 02 'h' 02 01 (one
        // header "h" = [1]); the count becomes 2, and the CRC is made right again.
        var batch = RecordBatch.encode([LogRecord(timestamp: 1_700_000_000_000, key: nil, value: [7], headers: [RecordHeader("h", [1])])],
                                       baseOffset: 9)
        #expect(Array(batch.suffix(5)) == [2, 2, UInt8(ascii: "h"), 2, 1])
        batch[batch.count - 5] = 4
        let crc = batch.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[RecordBatch.crcStart...])) }
        batch.replaceSubrange(17..<21, with: withUnsafeBytes(of: crc.bigEndian) { Array($0) })
        try batch.withUnsafeBytes { raw in
            let header = try RecordBatch.header(raw, at: 0)
            try RecordBatch.verify(raw, at: 0, header: header)
        }
        try appendBytes(batch, to: segment)

        let log = try Log.open(folder)
        let report = try #require(log.recoveryReports.first)
        #expect(report.truncatedBytes == batch.count)
        #expect(report.refusedDamage == nil)
        #expect(report.damage?.position == starts[3])
        #expect(report.damage?.problem == .badRecords("a header runs past the end of its record"))
        #expect(try Data(contentsOf: segment).count == starts[3])
        #expect(try #require(try log.topic("events")).partitions[0].endOffset == 9)
        try log.close()
    }

    @Test(arguments: Stop.allCases)
    func aHalfWrittenBatchAfterTheLastOneIsCut(stop: Stop) throws {
        let temporary = try TemporaryHome(label: "half-\(stop)")
        let folder = temporary.folder.appendingPathComponent("log")
        let (segment, starts) = try write(folder, stop: stop)
        // The first 40 bytes of a copy of the last batch: a torn write.
        let bytes = Array(try Data(contentsOf: segment))
        try appendBytes(Array(bytes[starts[2]..<(starts[2] + 40)]), to: segment)

        let log = try Log.open(folder)
        let report = try #require(log.recoveryReports.first)
        #expect(report.truncatedBytes == 40)
        #expect(report.damage?.position == starts[3])
        #expect(try #require(try log.topic("events")).partitions[0].endOffset == 9)
        try log.close()
    }

    @Test(arguments: [Stop.clean, .uncleanWithCheckpoint])
    func aDamagedLastBatchTheCheckpointCoversIsRefusedNotCut(stop: Stop) throws {
        let temporary = try TemporaryHome(label: "flip-\(stop)")
        let folder = temporary.folder.appendingPathComponent("log")
        let (segment, starts) = try write(folder, stop: stop)
        var bytes = Array(try Data(contentsOf: segment))
        bytes[starts[2] + 70] ^= 0x10
        try Data(bytes).write(to: segment)

        let log = try Log.open(folder)
        let report = try #require(log.recoveryReports.first)
        let refused = try #require(report.refusedDamage)
        #expect(refused.file.path == segment.path)
        #expect(refused.position == starts[2])
        #expect(report.truncatedBytes == 0)
        #expect(report.description.contains("nothing was cut"))
        let partition = try #require(try log.topic("events")).partitions[0]
        // Nothing was cut, the batches before the damage read, and appends are refused.
        #expect(try Data(contentsOf: segment).count == starts[3])
        #expect(try partition.read(from: 0, maxBytes: 1).map(\.offset) == [0, 1, 2])
        let error = try #require(throws: RunnelError.self) { try partition.append([record(9)]) }
        #expect(error.code == .corruptLog)
        #expect(error.description.contains("\(segment.path) at byte \(starts[2])"))
        #expect(error.hint?.contains("runnel log repair --yes") == true)
        try log.close()

        // Still refused after a clean close: the close did not move the checkpoint over it.
        let again = try Log.open(folder)
        #expect(again.recoveryReports.first?.refusedDamage?.position == starts[2])
        let damaged = try #require(try again.topic("events")).partitions[0]
        let repaired = try #require(try damaged.repair())
        #expect(repaired.truncatedBytes == starts[3] - starts[2])
        #expect(damaged.endOffset == 6)
        try damaged.append([record(6)])
        #expect(try readAll(damaged).map(\.offset) == Array(0..<7))
        try again.close()
        let repairedLog = try Log.open(folder)
        #expect(repairedLog.recoveryReports.isEmpty)
        try repairedLog.close()
    }

    @Test func aDamagedLastBatchPastTheCheckpointIsCutAfterACrash() throws {
        let temporary = try TemporaryHome(label: "flip-past")
        let folder = temporary.folder.appendingPathComponent("log")
        let (segment, starts) = try write(folder, stop: .uncleanWithoutCheckpoint)
        var bytes = Array(try Data(contentsOf: segment))
        bytes[starts[2] + 70] ^= 0x10
        try Data(bytes).write(to: segment)

        let log = try Log.open(folder)
        let report = try #require(log.recoveryReports.first)
        #expect(report.refusedDamage == nil)
        #expect(report.truncatedBytes == starts[3] - starts[2])
        #expect(report.droppedRecords == 3)
        try #require(try log.topic("events")).partitions[0].append([record(6)])
        try log.close()
    }
}
