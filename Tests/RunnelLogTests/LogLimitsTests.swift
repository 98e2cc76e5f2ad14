import Foundation
@testable import Runnel
import RunnelTesting
import Testing

/// Settings and offsets that would overflow the 4-byte fields of Kafka's formats are refused or
/// avoided, never trapped on; a segment whose files cannot be deleted stays in the log.
@Suite struct LogLimitsTests {
    @Test func settingsThatWouldOverflowTheFormatsAreRefusedWithTheLimit() throws {
        let temporary = try TemporaryHome(label: "limits")
        let log = try Log.open(temporary.folder.appendingPathComponent("log"))
        let segment = try #require(throws: RunnelError.self) {
            try log.createTopic("huge", TopicConfiguration(segmentBytes: (1 << 30) + 1))
        }
        #expect(segment.code == .invalidArgument)
        #expect(segment.message.contains("segment size 1073741825 is over the limit of 1073741824 bytes (1 GiB)"))
        let record = try #require(throws: RunnelError.self) {
            try log.createTopic("huge", TopicConfiguration(maxRecordBytes: 3 << 30))
        }
        #expect(record.message.contains("maximum record size"))
        #expect(try log.topic("huge") == nil)
        #expect(try log.createTopic("largest", TopicConfiguration(segmentBytes: 1 << 30)).configuration.segmentBytes == 1 << 30)
        try log.close()
    }

    @Test func aTopicFileEditedPastTheLimitsIsNamedAtOpen() throws {
        let temporary = try TemporaryHome(label: "limits-edited")
        let folder = temporary.folder.appendingPathComponent("log")
        let log = try Log.open(folder)
        try log.createTopic("events")
        try log.close()
        let settings = folder.appendingPathComponent("events/topic.json")
        let text = try String(contentsOf: settings, encoding: .utf8)
        try text.replacingOccurrences(of: "\"segmentBytes\" : 67108864", with: "\"segmentBytes\" : 4294967296").write(to: settings, atomically: true, encoding: .utf8)
        let error = try #require(throws: RunnelError.self) { try Log.open(folder) }
        #expect(error.code == .corruptLog)
        #expect(error.message.contains("the settings of topic events at \(settings.path) are invalid: segment size 4294967296 is over the limit"))
    }

    @Test func aBatchPastTwoToThe31OffsetsFromTheSegmentBaseRollsInsteadOfOverflowing() throws {
        let temporary = try TemporaryHome(label: "limits-offsets")
        let folder = temporary.folder.appendingPathComponent("log")
        let log = try Log.open(folder)
        let partition = try log.createTopic("events").partitions[0]
        try log.close()
        // A segment whose one (empty, compacted-style) batch spans offsets 0 ..< 2^31 - 1.
        let batch = RecordBatch.encodeEmpty(baseOffset: 0, lastOffsetDelta: Int32.max - 1, maxTimestamp: 1)
        try Data(batch).write(to: partition.folder.appendingPathComponent(LogSegment.name(0, "log")))

        let reopened = try Log.open(folder)
        let events = try #require(try reopened.topic("events")).partitions[0]
        #expect(events.endOffset == Int64(Int32.max))
        // Enough bytes that the second append writes index entries for its offsets.
        for round in 0..<2 {
            try events.append((0..<100).map { record(round * 100 + $0, size: 100) })
        }
        #expect(events.segmentSummaries.map(\.baseOffset) == [0, Int64(Int32.max)])
        #expect(try readAll(events, from: Int64(Int32.max)).map { index(of: $0)! } == Array(0..<200))
        try reopened.close()
        let again = try Log.open(folder)
        #expect(try #require(try again.topic("events")).partitions[0].endOffset == Int64(Int32.max) + 200)
        try again.close()
    }

    @Test func aSegmentWhoseFilesCannotBeDeletedStaysAndTheErrorNamesTheFile() throws {
        let temporary = try TemporaryHome(label: "limits-delete")
        let folder = temporary.folder.appendingPathComponent("log")
        let log = try Log.open(folder)
        let partition = try log.createTopic("events", TopicConfiguration(retentionMs: nil, retentionBytes: 3_000, segmentBytes: 1_024)).partitions[0]
        for batch in 0..<20 { try partition.append((0..<4).map { record(batch * 4 + $0, size: 40) }) }
        let before = partition.segmentSummaries
        #expect(before.count > 4)
        #expect(partition.expiredSegments().count >= 2)
        // A directory where the oldest segment's time index was: it cannot be unlinked, even by root.
        let blocked = partition.folder.appendingPathComponent(LogSegment.name(0, "timeindex"))
        try FileManager.default.removeItem(at: blocked)
        try FileManager.default.createDirectory(at: blocked.appendingPathComponent("keep"), withIntermediateDirectories: true)

        let error = try #require(throws: RunnelError.self) { try partition.applyRetention() }
        #expect(error.code == .io)
        #expect(error.message.contains("cannot delete \(blocked.path)"))
        #expect(error.message.contains("the segment 00000000000000000000.log stays in the log"))
        #expect(partition.segmentSummaries.map(\.baseOffset) == before.map(\.baseOffset))
        #expect(try readAll(partition).map(\.offset) == Array(0..<80))

        try FileManager.default.removeItem(at: blocked)
        let applied = try partition.applyRetention()
        #expect(applied.segmentsRemoved >= 2)
        let start = partition.startOffset
        #expect(start > 0)
        try log.close()
        // What retention deleted does not come back.
        let reopened = try Log.open(folder)
        #expect(try #require(try reopened.topic("events")).partitions[0].startOffset == start)
        try reopened.close()
    }
}
