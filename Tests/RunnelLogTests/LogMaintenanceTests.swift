import Foundation
@testable import Runnel
import RunnelTesting
import Testing

@Suite struct LogMaintenanceTests {
    let temporary: TemporaryHome
    var folder: URL { temporary.folder.appendingPathComponent("log") }

    init() throws {
        temporary = try TemporaryHome(label: "maintenance")
    }

    @Test func retentionByAgeDeletesWholeOldSegmentsButNeverTheActiveOne() throws {
        let log = try Log.open(folder)
        let hour: Int64 = 3_600_000
        let partition = try log.createTopic("aged", TopicConfiguration(retentionMs: 2 * hour, segmentBytes: 2_048)).partitions[0]
        let now = Date(millisecondsSince1970: 100 * hour)
        // Old records (5 hours ago), then recent ones (now).
        for batch in 0..<20 { try partition.append((0..<4).map { record(batch * 4 + $0, timestamp: 95 * hour, size: 40) }) }
        for batch in 20..<40 { try partition.append((0..<4).map { record(batch * 4 + $0, timestamp: 100 * hour, size: 40) }) }
        let before = partition.segmentSummaries
        let result = try partition.applyRetention(now: now)
        #expect(result.segmentsRemoved > 0)
        let after = partition.segmentSummaries
        #expect(after.count == before.count - result.segmentsRemoved)
        #expect(after.allSatisfy { $0.maxTimestamp >= 98 * hour })
        #expect(partition.startOffset == after.first!.baseOffset)
        #expect(partition.endOffset == 160)
        // Everything recent is still there.
        let records = try readAll(partition, from: partition.startOffset)
        #expect(records.filter { $0.timestamp == 100 * hour }.count == 80)

        // With only the active segment holding old data, nothing goes.
        let single = try log.createTopic("single", TopicConfiguration(retentionMs: 1)).partitions[0]
        try single.append([record(0, timestamp: 0)])
        #expect(try single.applyRetention(now: now).segmentsRemoved == 0)
        #expect(single.endOffset == 1)
    }

    @Test func aReaderForgetsTheSegmentsAWritersRetentionDeleted() throws {
        let log = try Log.open(folder)
        let partition = try log.createTopic("sized", TopicConfiguration(retentionMs: nil, retentionBytes: 6_000, segmentBytes: 2_048)).partitions[0]
        for batch in 0..<40 { try partition.append((0..<4).map { record(batch * 4 + $0, size: 40) }) }
        try log.flush(force: true)
        let reader = try #require(try Log.openForReading(folder).topic("sized")).partitions[0]
        #expect(reader.startOffset == 0 && reader.endOffset == 160)
        let bytesBefore = reader.sizeInBytes

        let removed = try partition.applyRetention().segmentsRemoved
        try #require(removed > 0)
        try reader.refresh()
        // The reader sees what is left: the deleted segments neither counted nor kept open.
        #expect(reader.startOffset == partition.startOffset && reader.startOffset > 0)
        #expect(reader.sizeInBytes == partition.sizeInBytes && reader.sizeInBytes < bytesBefore)
        #expect(reader.segmentSummaries.count == partition.segmentSummaries.count)
        #expect(reader.gaps.isEmpty)
        #expect(try readAll(reader, from: reader.startOffset).map(\.offset) == Array(reader.startOffset..<160))
    }

    @Test func retentionBySizeKeepsTheNewestSegmentsUnderTheLimit() throws {
        let log = try Log.open(folder)
        let partition = try log.createTopic("sized", TopicConfiguration(retentionMs: nil, retentionBytes: 6_000, segmentBytes: 2_048)).partitions[0]
        for batch in 0..<40 { try partition.append((0..<4).map { record(batch * 4 + $0, size: 40) }) }
        try partition.applyRetention()
        #expect(partition.sizeInBytes <= 6_000 + 2_048)
        #expect(partition.endOffset == 160)
        #expect(try readAll(partition, from: partition.startOffset).last?.offset == 159)
    }

    @Test func compactionKeepsTheNewestRecordPerKeyAndDropsOldTombstones() throws {
        let log = try Log.open(folder)
        let day: Int64 = 86_400_000
        let partition = try log.createTopic("profiles", TopicConfiguration(segmentBytes: 1_024, compact: true, deleteRetentionMs: day)).partitions[0]
        let now = Date(millisecondsSince1970: 10 * day)
        // Ten updates to each of five keys, then an old tombstone for key 0 and a fresh one for key 1.
        for round in 0..<10 {
            for key in 0..<5 { try partition.append([record(round * 5 + key, key: "k\(key)", timestamp: 9 * day, size: 30)]) }
        }
        try partition.append([LogRecord(timestamp: 1 * day, key: Array("k0".utf8), value: nil)])
        try partition.append([LogRecord(timestamp: 10 * day, key: Array("k1".utf8), value: nil)])
        for filler in 0..<20 { try partition.append([record(100 + filler, key: "f\(filler)", timestamp: 10 * day, size: 30)]) }
        let endBefore = partition.endOffset
        let result = try partition.compact(now: now)
        #expect(result.recordsRemoved > 0)
        #expect(partition.endOffset == endBefore)
        #expect(partition.verify().isEmpty)

        let records = try readAll(partition, from: partition.startOffset)
        let offsets = records.map(\.offset)
        #expect(offsets == offsets.sorted())
        var latest: [String: LogRecord] = [:]
        for record in records { latest[String(decoding: record.key!, as: UTF8.self)] = record }
        #expect(latest["k0"] == nil)                   // old tombstone dropped along with every update
        #expect(latest["k1"]?.value == nil)            // fresh tombstone kept
        for key in 2..<5 {
            #expect(latest["k\(key)"].map { index(of: $0) } == 45 + key)
            #expect(records.filter { $0.key == Array("k\(key)".utf8) }.count == 1)
        }
        // Offsets of kept records did not move: reads by offset still find them.
        for record in records.prefix(5) {
            #expect(try partition.read(from: record.offset, maxBytes: 1).first == record)
        }
    }

    @Test func anInterruptedCompactionLeavesTheOriginalAndIsCleanedUpOnOpen() throws {
        let partitionFolder: URL
        do {
            let log = try Log.open(folder)
            let partition = try log.createTopic("profiles", TopicConfiguration(segmentBytes: 1_024, compact: true)).partitions[0]
            for round in 0..<10 { for key in 0..<3 { try partition.append([record(round * 3 + key, key: "k\(key)", size: 30)]) } }
            try log.close()
            partitionFolder = partition.folder
        }
        // A crash between writing the cleaned file and renaming it.
        let original = partitionFolder.appendingPathComponent(LogSegment.name(0, "log"))
        try Data([1, 2, 3]).write(to: original.appendingPathExtension("cleaned"))
        // And one after the indexes of another segment were removed.
        try FileManager.default.removeItem(at: partitionFolder.appendingPathComponent(LogSegment.name(0, "index")))
        let log = try Log.open(folder)
        let partition = try #require(try log.topic("profiles")).partitions[0]
        #expect(!FileManager.default.fileExists(atPath: original.appendingPathExtension("cleaned").path))
        #expect(FileManager.default.fileExists(atPath: partitionFolder.appendingPathComponent(LogSegment.name(0, "index")).path))
        #expect(try readAll(partition).count == 30)
        #expect(partition.verify().isEmpty)
    }
}
