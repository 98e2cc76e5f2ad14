import Foundation
@testable import Runnel
import RunnelTesting
import Testing

/// Every segment ends where the next one starts: a deleted middle segment is a gap that reads,
/// `gaps` and the counts name; compaction and retention never make one.
@Suite struct LogContinuityTests {
    let temporary: TemporaryHome
    var folder: URL { temporary.folder.appendingPathComponent("log") }

    init() throws {
        temporary = try TemporaryHome(label: "continuity")
    }

    /// Writes 40 batches of 4 records into small segments, closes the log, and returns the
    /// partition folder and the segments' base offsets.
    private func makeSegments(_ name: String = "events", compact: Bool = false) throws -> (URL, [Int64]) {
        let log = try Log.open(folder)
        let partition = try log.createTopic(name, TopicConfiguration(segmentBytes: 2_048, compact: compact)).partitions[0]
        for batch in 0..<40 { try partition.append((0..<4).map { record(batch * 4 + $0, size: 40) }) }
        let bases = partition.segmentSummaries.map(\.baseOffset)
        try log.close()
        return (partition.folder, bases)
    }

    @Test func aDeletedMiddleSegmentIsAGapNamedWithItsFilesAndRange() throws {
        let (partitionFolder, bases) = try makeSegments()
        try #require(bases.count >= 4)
        let gone = partitionFolder.appendingPathComponent(LogSegment.name(bases[2], "log"))
        try FileManager.default.removeItem(at: gone)

        for log in [try Log.openForReading(folder), try Log.open(folder)] {
            let partition = try #require(try log.topic("events")).partitions[0]
            let gap = try #require(partition.gaps.first)
            #expect(partition.gaps.count == 1)
            #expect(gap.firstOffset == bases[2])
            #expect(gap.endOffset == bases[3])
            #expect(gap.segmentBefore.lastPathComponent == LogSegment.name(bases[1], "log"))
            #expect(gap.segmentAfter.lastPathComponent == LogSegment.name(bases[3], "log"))
            // Segments report the offsets their files hold, not the next one's base.
            #expect(partition.segmentSummaries[1].nextOffset == bases[2])
            #expect(partition.heldOffsetCount == 160 - (bases[3] - bases[2]))

            // A read hands out what lies before the gap, then the read at the gap throws.
            var seen: [Int64] = []
            let next = try partition.forEachRecord(from: bases[1], maxBytes: 1 << 20) { seen.append($0.offset); return true }
            #expect(seen == Array(bases[1]..<bases[2]))
            #expect(next == bases[2])
            let error = #expect(throws: RunnelError.self) { try partition.forEachRecord(from: next) { _ in true } }
            #expect(error?.code == .logGap)
            #expect(error?.message.contains("offsets \(bases[2])–\(bases[3] - 1)") == true)
            #expect(error?.message.contains(LogSegment.name(bases[1], "log")) == true)
            #expect(error?.hint?.contains("--skip-gap") == true)
            #expect(throws: RunnelError.self) { try partition.read(from: bases[2] + 1) }
            // Past the gap, reads work again.
            #expect(try partition.read(from: bases[3], maxBytes: 1).first?.offset == bases[3])
            try log.close()
        }
    }

    @Test func aDeletedLastSegmentIsCaughtByTheRecoveryCheckpointNamingIt() throws {
        let (partitionFolder, bases) = try makeSegments()
        let last = try #require(bases.last)
        try FileManager.default.removeItem(at: partitionFolder.appendingPathComponent(LogSegment.name(last, "log")))

        let reader = try #require(try Log.openForReading(folder).topic("events")).partitions[0]
        #expect(reader.missingLastSegment?.baseOffset == last)
        #expect(reader.missingLastSegment?.file.lastPathComponent == LogSegment.name(last, "log"))
        // The writer would hand out offsets from `last` on again: it refuses.
        let error = #expect(throws: RunnelError.self) { try Log.open(folder) }
        #expect(error?.code == .logGap)
        #expect(error?.message.contains("\(LogSegment.name(last, "log")) of \(partitionFolder.path)") == true)
        #expect(error?.hint?.contains("recovery-checkpoint") == true)

        // Accepting the loss as the hint says: the writer opens and appends after what is left.
        try FileManager.default.removeItem(at: partitionFolder.appendingPathComponent("recovery-checkpoint"))
        let log = try Log.open(folder)
        let partition = try #require(try log.topic("events")).partitions[0]
        #expect(partition.endOffset == last)
        #expect(try partition.append([record(1_000)]) == last)
        try log.close()
        #expect(try #require(try Log.openForReading(folder).topic("events")).partitions[0].missingLastSegment == nil)
    }

    @Test func retentionDeletingTheOldestSegmentsIsNotAGap() throws {
        let (partitionFolder, bases) = try makeSegments()
        for base in bases.prefix(2) {
            for suffix in ["log", "index", "timeindex"] {
                try FileManager.default.removeItem(at: partitionFolder.appendingPathComponent(LogSegment.name(base, suffix)))
            }
        }
        let partition = try #require(try Log.openForReading(folder).topic("events")).partitions[0]
        #expect(partition.gaps.isEmpty)
        #expect(partition.startOffset == bases[2])
        #expect(try readAll(partition, from: partition.startOffset).count == Int(160 - bases[2]))
    }

    /// Fills closed segments so that compaction empties the first ones and thins the rest, runs
    /// it, checks the ranges stayed, and returns them with the indexes of the records kept.
    private func compactASegmentToNothing() throws -> ([(Int64, Int64)], [Int]) {
        let log = try Log.open(folder)
        let partition = try log.createTopic("profiles", TopicConfiguration(segmentBytes: 1_024, compact: true)).partitions[0]
        // The first segments hold only updates of k0 that later ones replace: they compact to
        // nothing. Then keys that stay, interleaved with more updates of k0.
        for round in 0..<30 { try partition.append([record(round, key: "k0", size: 30), record(100 + round, key: "k0", size: 30)]) }
        for round in 0..<30 { try partition.append([record(200 + round, key: "s\(round)", size: 30), record(300 + round, key: "k0", size: 30)]) }
        let before = partition.segmentSummaries.map { ($0.baseOffset, $0.nextOffset) }
        try #require(before.count >= 6)
        // What stays: every record of the active segment, the other keys, and the last k0.
        let all = try readAll(partition)
        let lastK0 = all.last { $0.key == Array("k0".utf8) }!.offset
        let expected = all.filter { $0.offset >= before.last!.0 || $0.key != Array("k0".utf8) || $0.offset == lastK0 }.compactMap(index(of:))
        let result = try partition.compact()
        #expect(result.recordsRemoved > 0)
        #expect(result.segmentsRemoved == 0)
        #expect(partition.segmentSummaries.map { ($0.baseOffset, $0.nextOffset) }.elementsEqual(before, by: ==))
        #expect(partition.gaps.isEmpty)
        #expect(partition.verify().isEmpty)
        try log.close()

        return (before, expected)
    }

    @Test func compactionKeepsEverySegmentsOffsetRangeSoItIsNeverAGap() throws {
        let (before, expected) = try compactASegmentToNothing()
        for reopened in [try Log.openForReading(folder), try Log.open(folder)] {
            let compacted = try #require(try reopened.topic("profiles")).partitions[0]
            #expect(compacted.gaps.isEmpty)
            #expect(compacted.segmentSummaries.map { ($0.baseOffset, $0.nextOffset) }.elementsEqual(before, by: ==))
            // A segment compacted to nothing still marks its range, with one empty batch.
            let emptied = try #require(compacted.segmentSummaries.first)
            #expect(emptied.bytes == RecordBatch.headerSize)
            // Reading on from offset 0 steps over the holes to the kept records, in order.
            var kept: [Int] = []
            var next: Int64 = 0
            while next < compacted.endOffset {
                let before = next
                next = try compacted.forEachRecord(from: next, maxBytes: 256) { record in
                    kept.append(index(of: try record.ownedRecord())!)
                    return true
                }
                try #require(next > before, "stuck at offset \(next)")
            }
            #expect(kept == expected)
            #expect(try readAll(compacted).compactMap(index(of:)) == expected)
            try reopened.close()
        }
    }
}

/// Indexes are disposable: a sealed segment whose `.index` and `.timeindex` are gone is read
/// as before, by a writer (which rebuilds the files) and by a reader (which may not write, so
/// it rebuilds them in memory).
@Suite struct MissingIndexTests {
    let temporary: TemporaryHome
    var folder: URL { temporary.folder.appendingPathComponent("log") }

    init() throws {
        temporary = try TemporaryHome(label: "missing-index")
    }

    @Test func aSegmentBeingCreatedIsNotTakenForOneWhoseIndexesAreMissing() throws {
        let log = try Log.open(folder)
        let topic = try log.createTopic("fresh", TopicConfiguration(partitions: 2))
        // Nothing was recovered or rebuilt: the new segments got their indexes as they were made.
        #expect(topic.recoveryReports.isEmpty)
        try log.close()
    }

    @Test func aSealedSegmentWithoutIndexesIsReadByReadersAndWriters() throws {
        let bases: [Int64]
        let partitionFolder: URL
        do {
            let log = try Log.open(folder)
            let partition = try log.createTopic("events", TopicConfiguration(segmentBytes: 8_192)).partitions[0]
            for batch in 0..<60 { try partition.append((0..<4).map { record(batch * 4 + $0, timestamp: Int64(batch * 4 + $0) * 1_000, size: 40) }) }
            bases = partition.segmentSummaries.map(\.baseOffset)
            partitionFolder = partition.folder
            try log.close()
        }
        try #require(bases.count >= 3)
        let index = partitionFolder.appendingPathComponent(LogSegment.name(bases[1], "index"))
        let timeIndex = partitionFolder.appendingPathComponent(LogSegment.name(bases[1], "timeindex"))
        try FileManager.default.removeItem(at: index)
        try FileManager.default.removeItem(at: timeIndex)

        let reader = try #require(try Log.openForReading(folder).topic("events")).partitions[0]
        #expect(reader.gaps.isEmpty)
        #expect(reader.segmentSummaries[1].nextOffset == bases[2])
        for offset in [bases[1], bases[1] + 5, bases[2] - 1] {
            #expect(try reader.read(from: offset, maxBytes: 1).first?.offset == offset)
        }
        #expect(try reader.offset(forTimestamp: (bases[1] + 3) * 1_000) == bases[1] + 3)
        #expect(try readAll(reader).count == 240)
        // A reader writes nothing.
        #expect(!FileManager.default.fileExists(atPath: index.path))
        #expect(!FileManager.default.fileExists(atPath: timeIndex.path))

        let log = try Log.open(folder)
        let writer = try #require(try log.topic("events")).partitions[0]
        #expect(FileManager.default.fileExists(atPath: index.path))
        #expect(FileManager.default.fileExists(atPath: timeIndex.path))
        for offset in [bases[1], bases[1] + 5, bases[2] - 1] {
            #expect(try writer.read(from: offset, maxBytes: 1).first?.offset == offset)
        }
        #expect(try writer.offset(forTimestamp: (bases[1] + 3) * 1_000) == bases[1] + 3)
        #expect(try readAll(writer).count == 240)
        try log.close()
    }
}

/// The batch compaction leaves in place of a segment's emptied last batch has the layout of
/// Kafka's `DefaultRecordBatch.writeEmptyHeader`.
@Suite struct EmptyBatchTests {
    @Test func anEmptyBatchIsTheHeaderAloneWithKafkasFieldsAndAValidCRC() throws {
        let bytes = RecordBatch.encodeEmpty(baseOffset: 4_711, lastOffsetDelta: 9, maxTimestamp: 1_700_000_000_123)
        #expect(bytes.count == RecordBatch.headerSize)
        func int64(_ at: Int) -> Int64 { bytes[at..<(at + 8)].reduce(0) { $0 << 8 | Int64($1) } }
        func int32(_ at: Int) -> Int32 { Int32(truncatingIfNeeded: bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int64($1) }) }
        #expect(int64(0) == 4_711)                       // baseOffset
        #expect(int32(8) == 49)                          // batchLength: 61 − 12
        #expect(bytes[16] == 2)                          // magic
        #expect(int32(23) == 9)                          // lastOffsetDelta
        #expect(int64(27) == -1)                         // firstTimestamp: none
        #expect(int64(35) == 1_700_000_000_123)          // maxTimestamp
        #expect(int64(43) == -1)                         // producerId
        #expect(int32(57) == 0)                          // recordCount
        try bytes.withUnsafeBytes { raw in
            let header = try RecordBatch.header(raw, at: 0)
            #expect(header.lastOffset == 4_720)
            try RecordBatch.verify(raw, at: 0, header: header)
            #expect(try RecordBatch.records(raw, at: 0, header: header).isEmpty)
        }
    }
}
