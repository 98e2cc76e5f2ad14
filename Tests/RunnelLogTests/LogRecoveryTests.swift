import Foundation
@testable import Runnel
import RunnelTesting
import Testing

@Suite struct LogRecoveryTests {
    /// Writes `batches` batches to a fresh log and "crashes" (no close): returns the partition
    /// folder and the byte size after each batch.
    private func writeUncleanly(_ folder: URL, batches: Int) throws -> (URL, [Int]) {
        let log = try Log.open(folder)
        let partition = try log.createTopic("events").partitions[0]
        var sizes: [Int] = []
        for batch in 0..<batches {
            try partition.append((0..<3).map { record(batch * 3 + $0, key: "k\($0)", size: 30) })
            try partition.flush()
            sizes.append(partition.sizeInBytes)
        }
        return (partition.folder, sizes)
    }

    @Test func truncatingTheLastBatchAtEveryByteKeepsTheValidPrefixAndReportsTheCut() throws {
        let temporary = try TemporaryHome(label: "torn")
        let pristine = temporary.folder.appendingPathComponent("pristine")
        let (partitionFolder, sizes) = try writeUncleanly(pristine, batches: 4)
        let segmentName = LogSegment.name(0, "log")
        let full = try Data(contentsOf: partitionFolder.appendingPathComponent(segmentName))
        let lastStart = sizes[2]
        for cut in lastStart..<sizes[3] {
            let copy = temporary.folder.appendingPathComponent("cut-\(cut)")
            try FileManager.default.copyItem(at: pristine, to: copy)
            try? FileManager.default.removeItem(at: copy.appendingPathComponent(Log.lockName))
            let segment = copy.appendingPathComponent("events/0/\(segmentName)")
            try full.prefix(cut).write(to: segment)

            let log = try Log.open(copy)
            let partition = try #require(try log.topic("events")).partitions[0]
            let records = try readAll(partition)
            #expect(records.count == 9, "cut at \(cut)")
            #expect(records.map { index(of: $0)! } == Array(0..<9), "cut at \(cut)")
            #expect(partition.endOffset == 9)
            if cut > lastStart {
                let report = try #require(log.recoveryReports.first, "cut at \(cut)")
                #expect(report.truncatedBytes == cut - lastStart)
                #expect(report.description.contains("torn tail truncated"))
            }
            #expect(try Data(contentsOf: segment).count == lastStart)
            // The log goes on from the cut.
            try partition.append([record(100)])
            #expect(try readAll(partition).last?.offset == 9)
            try log.close()
        }
    }

    /// Closed segments whose last batch is longer than a read: opening learns their ends from
    /// the batch headers alone, and one whose last header is damaged still ends where the next
    /// segment starts.
    @Test func closedSegmentsOfLargeBatchesEndWhereTheirLastHeaderSays() throws {
        let temporary = try TemporaryHome(label: "large-tail")
        let folder = temporary.folder.appendingPathComponent("log")
        let perBatch = 1_500, batches = 12
        let closedSegment: URL
        do {
            let log = try Log.open(folder)
            // Batches of about 150 KB, four or five to a segment of 600 KB.
            let partition = try log.createTopic("events", TopicConfiguration(segmentBytes: 600_000)).partitions[0]
            for batch in 0..<batches { try partition.append((0..<perBatch).map { record(batch * perBatch + $0, size: 90) }) }
            try partition.flush()
            closedSegment = partition.folder.appendingPathComponent(LogSegment.name(0, "log"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: partition.folder.path).filter { $0.hasSuffix(".log") }.count >= 3)
        }
        /// Opens the log after a crash and reads it from `firstReadable` on.
        func reopen(readingFrom firstReadable: Int) throws {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(Log.lockName))
            let log = try Log.open(folder)
            let partition = try #require(try log.topic("events")).partitions[0]
            #expect(partition.endOffset == Int64(perBatch * batches))
            let records = try readAll(partition, from: Int64(firstReadable))
            #expect(records.map { index(of: $0)! } == Array(firstReadable..<(perBatch * batches)))
            // Reading from an offset inside each segment finds it by the segments' ends.
            for start in stride(from: firstReadable, to: perBatch * batches, by: 2_345) {
                #expect(try readAll(partition, from: Int64(start)).first?.offset == Int64(start))
            }
            try log.close()
        }
        try reopen(readingFrom: 0)
        try expectHeaderWalkAgrees(closedSegment)
        // The last batch of the first segment now claims to run past the end of its file.
        let bytes = try Data(contentsOf: closedSegment)
        var position = 0, last = 0
        while position < bytes.count {
            last = position
            position += 12 + Int(bytes[(position + 8)..<(position + 12)].reduce(0) { $0 << 8 | Int($1) })
        }
        var damaged = bytes
        damaged[last + 8] = 0x7F
        try damaged.write(to: closedSegment)
        let secondSegment = try #require(try FileManager.default.contentsOfDirectory(atPath: closedSegment.deletingLastPathComponent().path)
            .filter { $0.hasSuffix(".log") }.sorted().dropFirst().first.flatMap { Int($0.dropLast(4)) })
        try reopen(readingFrom: secondSegment)
        try expectHeaderWalkAgrees(closedSegment)
    }

    /// Walking a segment's batch headers alone finds the batches, and the damage, that walking
    /// its batches does.
    private func expectHeaderWalkAgrees(_ file: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let segment = try LogSegment(folder: file.deletingLastPathComponent(), baseOffset: 0, writable: false)
        func walk(_ body: (inout [Int64]) throws -> Void) -> (batches: [Int64], damage: Int?) {
            var seen: [Int64] = []
            do {
                try body(&seen)
                return (seen, nil)
            } catch {
                return (seen, (error as? SegmentDamage)?.position ?? -1)
            }
        }
        let whole = walk { seen in try segment.forEachBatch(from: 0, verify: false) { header, _, _ in seen.append(header.baseOffset); return true } }
        let headers = walk { seen in try segment.forEachBatchHeader(from: 0) { header, _ in seen.append(header.baseOffset) } }
        #expect(whole.batches.count >= 2, sourceLocation: sourceLocation)
        #expect(headers.batches == whole.batches && headers.damage == whole.damage, sourceLocation: sourceLocation)
    }

    @Test func garbageAfterTheLastBatchIsCutAndReported() throws {
        let temporary = try TemporaryHome(label: "garbage")
        let folder = temporary.folder.appendingPathComponent("log")
        let (partitionFolder, sizes) = try writeUncleanly(folder, batches: 3)
        try? FileManager.default.removeItem(at: folder.appendingPathComponent(Log.lockName))
        let segment = try FileHandle(forWritingTo: partitionFolder.appendingPathComponent(LogSegment.name(0, "log")))
        segment.seekToEndOfFile()
        segment.write(Data([0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 80] + [UInt8](repeating: 0, count: 80)))
        try segment.close()
        let log = try Log.open(folder)
        let report = try #require(log.recoveryReports.first)
        #expect(report.truncatedBytes == 92)
        #expect(try #require(try log.topic("events")).partitions[0].sizeInBytes == sizes[2])
    }

    @Test func aFlippedBitInAClosedSegmentIsNamedWithFileAndOffset() throws {
        let temporary = try TemporaryHome(label: "flip")
        let folder = temporary.folder.appendingPathComponent("log")
        let segmentFile: URL
        let damagedBatchStart: Int
        do {
            let log = try Log.open(folder)
            let partition = try log.createTopic("events", TopicConfiguration(segmentBytes: 2_048)).partitions[0]
            for batch in 0..<40 { try partition.append((0..<4).map { record(batch * 4 + $0, size: 30) }) }
            try log.close()
            segmentFile = partition.folder.appendingPathComponent(LogSegment.name(0, "log"))
            // The third batch of the first (closed) segment.
            let bytes = Array(try Data(contentsOf: segmentFile))
            damagedBatchStart = try bytes.withUnsafeBytes { raw in
                let first = try RecordBatch.header(raw, at: 0).size
                return first + (try RecordBatch.header(raw, at: first).size)
            }
            var damaged = bytes
            damaged[damagedBatchStart + 70] ^= 0x04
            try Data(damaged).write(to: segmentFile)
        }
        let log = try Log.open(folder)
        #expect(log.recoveryReports.isEmpty)   // a clean close: closed segments are not rescanned
        let partition = try #require(try log.topic("events")).partitions[0]
        let damage = partition.verify()
        #expect(damage.count == 1)
        #expect(damage.first?.file.lastPathComponent == segmentFile.lastPathComponent)
        #expect(damage.first?.position == damagedBatchStart)
        let error = try #require(throws: RunnelError.self) { try readAll(partition) }
        #expect(error.code == .corruptLog)
        #expect(error.description.contains("00000000000000000000.log at byte \(damagedBatchStart)"))

        let repaired = try #require(try partition.repair())
        #expect(repaired.damage?.position == damagedBatchStart)
        #expect(partition.verify().isEmpty)
        #expect(partition.endOffset == 8)
        #expect(try readAll(partition).map(\.offset) == Array(0..<8))
    }

    @Test func anUncleanStopScansOnlyPastTheCheckpoint() throws {
        let temporary = try TemporaryHome(label: "checkpoint")
        let folder = temporary.folder.appendingPathComponent("log")
        do {
            let log = try Log.open(folder)
            let partition = try log.createTopic("events", TopicConfiguration(segmentBytes: 4_096)).partitions[0]
            for batch in 0..<100 { try partition.append((0..<4).map { record(batch * 4 + $0, size: 40) }) }
            try log.flush()
            // No close: an unclean stop.
        }
        try? FileManager.default.removeItem(at: folder.appendingPathComponent(Log.lockName))
        let log = try Log.open(folder)
        let report = try #require(log.recoveryReports.first)
        // Each roll moves the checkpoint, so only the active segment is checked.
        #expect(report.scannedBytes <= 4_096)
        #expect(report.truncatedBytes == 0)
        #expect(try #require(try log.topic("events")).partitions[0].endOffset == 400)
    }
}

/// Batches larger than the 1 MiB read chunk, and batches that cross a chunk boundary near the
/// end of a segment, as the relay's full cycles do.
@Suite struct LargeBatchTests {
    @Test func batchesCrossingReadChunksSurviveAnUncleanReopenAndReadBack() throws {
        let temporary = try TemporaryHome(label: "large")
        let folder = temporary.folder.appendingPathComponent("log")
        do {
            let log = try Log.open(folder)
            let partition = try log.createTopic("big").partitions[0]
            // About 600 KB a batch: every second batch crosses a 1 MiB boundary.
            for batch in 0..<9 {
                try partition.append((0..<2_000).map { record(batch * 2_000 + $0, key: "k\($0 % 13)", size: 280) })
                try partition.flush()
            }
            #expect(partition.endOffset == 18_000)
            // No close: an unclean stop with a checkpoint at 0.
        }
        try? FileManager.default.removeItem(at: folder.appendingPathComponent(Log.lockName))
        let reader = try Log.openForReading(folder)
        let readPartition = try #require(try reader.topic("big")).partitions[0]
        #expect(readPartition.endOffset == 18_000)
        #expect(try readAll(readPartition).count == 18_000)

        let log = try Log.open(folder)
        let report = try #require(log.recoveryReports.first)
        #expect(report.truncatedBytes == 0, "\(report)")
        let partition = try #require(try log.topic("big")).partitions[0]
        #expect(partition.endOffset == 18_000)
        let all = try readAll(partition)
        #expect(all.map(\.offset) == Array(0..<18_000))
        #expect(try partition.read(from: 17_999).first?.offset == 17_999)
        #expect(partition.verify().isEmpty)
    }

    /// Batches of 1.5 and 3 MB, several times the read chunk, between small ones: read back
    /// whole from every starting offset kind, and a byte flipped inside a large one is found
    /// at that batch.
    @Test func batchesLargerThanTheReadChunkReadBackAndTheirDamageIsFound() throws {
        let temporary = try TemporaryHome(label: "larger")
        let folder = temporary.folder.appendingPathComponent("log")
        let log = try Log.open(folder)
        let partition = try log.createTopic("big").partitions[0]
        var sizes: [Int] = []
        for (index, count) in [3, 5_000, 7, 10_000, 1, 5_000].enumerated() {
            let first = sizes.reduce(0, +)
            try partition.append((0..<count).map { record(first + $0, key: "k\(index)", size: 280) })
            sizes.append(count)
        }
        try partition.flush()
        let total = sizes.reduce(0, +)
        #expect(try readAll(partition).map(\.offset) == (0..<total).map(Int64.init))
        for start in [0, 3, 4_000, 5_008, 15_008, total - 1] {
            var seen: [Int64] = []
            _ = try partition.forEachRecord(from: Int64(start), maxBytes: 1 << 20) { seen.append($0.offset); return true }
            #expect(seen.first == Int64(start))
            #expect(seen == Array(seen.indices.map { Int64(start + $0) }))
        }
        #expect(partition.verify().isEmpty)

        // Flip one byte a megabyte into the 3 MB batch (offsets 5,010–15,009).
        let segment = partition.folder.appendingPathComponent(LogSegment.name(0, "log"))
        try log.close()
        var bytes = try Data(contentsOf: segment)
        let bigBatchStart = try #require(Self.batchPositions(in: bytes).dropFirst(3).first)
        bytes[bigBatchStart + (1 << 20)] ^= 0x40
        try bytes.write(to: segment)
        try? FileManager.default.removeItem(at: folder.appendingPathComponent(Log.lockName))
        let reader = try Log.openForReading(folder)
        let damaged = try #require(try reader.topic("big")).partitions[0]
        #expect(damaged.verify().map(\.position) == [bigBatchStart])
    }

    /// The file position of every batch in a segment's bytes, by walking their length fields.
    static func batchPositions(in bytes: Data) -> [Int] {
        var positions: [Int] = []
        var position = 0
        while position + RecordBatch.logOverhead <= bytes.count {
            positions.append(position)
            let length = bytes[(position + 8)..<(position + 12)].reduce(0) { $0 << 8 | Int($1) }
            position += length + RecordBatch.logOverhead
        }
        return positions
    }
}
