import Foundation
@testable import Runnel
import RunnelTesting
import Testing

func record(_ index: Int, key: String? = nil, timestamp: Int64? = nil, size: Int = 20) -> LogRecord {
    LogRecord(timestamp: timestamp ?? 1_700_000_000_000 + Int64(index), key: key.map { Array($0.utf8) },
              value: Array(repeating: UInt8(index % 251), count: size), headers: [RecordHeader("n", String(index))])
}

func index(of record: LogRecord) -> Int? {
    record.header("n").flatMap { Int(String(decoding: $0, as: UTF8.self)) }
}

/// Reads a whole partition from `offset`.
func readAll(_ partition: PartitionLog, from offset: Int64 = 0) throws -> [LogRecord] {
    var records: [LogRecord] = []
    var next = offset
    while next < partition.endOffset {
        let batch = try partition.read(from: next, maxBytes: 64 << 10)
        guard let last = batch.last else { break }
        records += batch
        next = last.offset + 1
    }
    return records
}

@Suite struct LogTests {
    let temporary: TemporaryHome
    var folder: URL { temporary.folder.appendingPathComponent("log") }

    init() throws {
        temporary = try TemporaryHome(label: "log")
    }

    @Test func appendedRecordsReadBackWithOffsetsAcrossSegments() throws {
        let log = try Log.open(folder)
        let topic = try log.createTopic("events", TopicConfiguration(partitions: 1, segmentBytes: 4_096))
        let partition = topic.partitions[0]
        for batch in 0..<50 {
            try partition.append((0..<10).map { record(batch * 10 + $0, size: 40) })
        }
        try log.flush()
        #expect(partition.segmentSummaries.count > 5)
        #expect(partition.endOffset == 500)
        let all = try readAll(partition)
        #expect(all.map(\.offset) == Array(0..<500))
        #expect(all.map { index(of: $0)! } == Array(0..<500))
        // Lookups land inside segments and across their boundaries.
        for summary in partition.segmentSummaries {
            for offset in [summary.baseOffset, summary.nextOffset - 1, summary.nextOffset] where offset < 500 {
                #expect(try partition.read(from: offset, maxBytes: 1).first?.offset == offset)
            }
        }
        #expect(try partition.read(from: 500).isEmpty)
    }

    @Test func segmentFilesAreNamedByTheirBaseOffsetAndIndexesUseKafkasEntrySizes() throws {
        let log = try Log.open(folder)
        let partition = try log.createTopic("events", TopicConfiguration(segmentBytes: 8_192)).partitions[0]
        for batch in 0..<40 { try partition.append((0..<5).map { record(batch * 5 + $0, size: 100) }) }
        try log.close()
        let names = try FileManager.default.contentsOfDirectory(atPath: partition.folder.path).sorted()
        #expect(names.contains("00000000000000000000.log"))
        #expect(names.contains("00000000000000000000.index"))
        #expect(names.contains("00000000000000000000.timeindex"))
        let second = try #require(partition.segmentSummaries.dropFirst().first)
        #expect(names.contains(LogSegment.name(second.baseOffset, "log")))
        for name in names where name.hasSuffix(".index") {
            let size = try FileManager.default.attributesOfItem(atPath: partition.folder.appendingPathComponent(name).path)[.size] as! Int
            #expect(size % 8 == 0)
        }
        let active = LogSegment.name(partition.segmentSummaries.last!.baseOffset, "timeindex")
        for name in names where name.hasSuffix(".timeindex") {
            let size = try FileManager.default.attributesOfItem(atPath: partition.folder.appendingPathComponent(name).path)[.size] as! Int
            #expect(size % 12 == 0)
            // A closed segment ends with an entry for its largest timestamp.
            #expect(name == active || size > 0)
        }
    }

    @Test func keysLandInKafkasPartitionAndKeepTheirOrder() throws {
        let log = try Log.open(folder)
        let topic = try log.createTopic("keyed", TopicConfiguration(partitions: 4))
        let records = (0..<200).map { record($0, key: "member:\($0 % 7)") }
        try log.append(records, to: "keyed")
        for key in 0..<7 {
            let expected = Murmur2.partition(forKey: Array("member:\(key)".utf8), partitions: 4)
            let found = try readAll(topic.partitions[expected]).filter { $0.key == Array("member:\(key)".utf8) }
            #expect(found.map { index(of: $0)! } == Array(stride(from: key, to: 200, by: 7)))
        }
    }

    @Test func readsByTimestampFindTheFirstRecordAtOrAfterIt() throws {
        let log = try Log.open(folder)
        let partition = try log.createTopic("timed", TopicConfiguration(segmentBytes: 4_096)).partitions[0]
        for batch in 0..<30 {
            try partition.append((0..<10).map { record(batch * 10 + $0, timestamp: 1_000 + Int64(batch * 10 + $0) * 10, size: 50) })
        }
        #expect(try partition.offset(forTimestamp: 0) == 0)
        #expect(try partition.offset(forTimestamp: 1_000) == 0)
        #expect(try partition.offset(forTimestamp: 1_001) == 1)
        #expect(try partition.offset(forTimestamp: 1_000 + 1_234 * 10 / 10 * 1) == 124)
        #expect(try partition.offset(forTimestamp: 1_000 + 2_990) == 299)
        #expect(try partition.offset(forTimestamp: 1_000 + 3_000) == nil)
    }

    @Test func aSecondWriterGetsAClearError() throws {
        let log = try Log.open(folder)
        _ = log
        let error = try #require(throws: RunnelError.self) { try Log.open(folder) }
        #expect(error.code == .logLocked)
        #expect(error.description.contains("already open for writing"))
        #expect(error.description.contains("pid \(getpid())"))
    }

    @Test func aCleanCloseReopensWithNothingToScan() throws {
        do {
            let log = try Log.open(folder)
            let partition = try log.createTopic("events").partitions[0]
            for index in 0..<20 { try partition.append([record(index)]) }
            try log.close()
        }
        let reopened = try Log.open(folder)
        #expect(reopened.recoveryReports.isEmpty)
        let partition = try #require(try reopened.topic("events")).partitions[0]
        #expect(partition.endOffset == 20)
        try partition.append([record(20)])
        #expect(try readAll(partition).map(\.offset) == Array(0...20))
    }

    @Test func oversizedRecordsAreRefusedAndNothingIsWritten() throws {
        let log = try Log.open(folder)
        let partition = try log.createTopic("small", TopicConfiguration(maxRecordBytes: 100)).partitions[0]
        let error = try #require(throws: RunnelError.self) { try partition.append([record(0, size: 10), record(1, size: 200)]) }
        #expect(error.description.contains("over the limit of 100 bytes"))
        #expect(partition.endOffset == 0)
    }

    @Test func aReaderInAnotherLogSeesWhatTheWriterAppends() throws {
        let writer = try Log.open(folder)
        let partition = try writer.createTopic("shared").partitions[0]
        try partition.append([record(0)])
        try writer.flush()
        let reader = try Log.openForReading(folder)
        let readPartition = try #require(try reader.topic("shared")).partitions[0]
        #expect(try readPartition.read(from: 0).count == 1)
        try partition.append([record(1), record(2)])
        try writer.flush()
        try readPartition.refresh()
        #expect(try readAll(readPartition).map(\.offset) == [0, 1, 2])
    }
}

@Suite struct LogRollTests {
    @Test func theActiveSegmentRollsWhenItGetsOld() throws {
        let temporary = try TemporaryHome(label: "roll")
        let log = try Log.open(temporary.folder.appendingPathComponent("log"))
        let partition = try log.createTopic("aging", TopicConfiguration(segmentMs: 60_000)).partitions[0]
        let start = Date(millisecondsSince1970: 1_000_000)
        try partition.append([record(0)], now: start)
        try partition.append([record(1)], now: start.addingTimeInterval(30))
        #expect(partition.segmentSummaries.count == 1)
        try partition.append([record(2)], now: start.addingTimeInterval(61))
        #expect(partition.segmentSummaries.map(\.baseOffset) == [0, 2])
        #expect(try readAll(partition).map(\.offset) == [0, 1, 2])
    }
}

@Suite struct RecordViewTests {
    @Test func viewsInPlaceMatchOwnedRecordsAndStopWhenAsked() throws {
        let temporary = try TemporaryHome(label: "views")
        let log = try Log.open(temporary.folder.appendingPathComponent("log"))
        let partition = try log.createTopic("viewed", TopicConfiguration(segmentBytes: 8_192)).partitions[0]
        for batch in 0..<30 {
            try partition.append((0..<7).map { record(batch * 7 + $0, key: $0 == 3 ? nil : "k\($0)", size: 60) })
        }
        let owned = try readAll(partition)
        var viewed: [LogRecord] = []
        var next: Int64 = 0
        while next < partition.endOffset {
            next = try partition.forEachRecord(from: next, maxBytes: 2_000) { view in
                viewed.append(view.record)
                #expect(view.header("n").map { String(decoding: $0, as: UTF8.self) } == String(index(of: view.record)!))
                #expect(view.header("missing") == nil)
                return true
            }
        }
        #expect(viewed == owned)

        var seen: [Int64] = []
        let resume = try partition.forEachRecord(from: 10) { view in
            seen.append(view.offset)
            return seen.count < 5
        }
        #expect(seen == [10, 11, 12, 13, 14])
        #expect(resume == 15)
    }

    @Test func readsFromEveryOffsetStartThereAcrossBatchesLargerThanAReadChunk() throws {
        // Reading from a batch's first offset steps over the batch before it having read only
        // its header; batches of 1.3 MB (more than a read chunk) sit between small ones.
        let temporary = try TemporaryHome(label: "views-large")
        let log = try Log.open(temporary.folder.appendingPathComponent("log"))
        let partition = try log.createTopic("viewed", TopicConfiguration()).partitions[0]
        var total = 0
        for (batch, count) in [3, 1_300, 1, 2, 1_300, 1_300, 4].enumerated() {
            let base = total
            try partition.append((0..<count).map { record(base + $0, key: "b\(batch)", size: 1_000) })
            total += count
        }
        let owned = try readAll(partition)
        #expect(owned.count == total)
        // Every batch's first offset, one inside each, and the last.
        for start in [0, 1, 2, 3, 500, 1_302, 1_303, 1_304, 1_305, 1_306, 2_000, 2_606, 3_000, 3_906, 3_909] {
            var viewed: [LogRecord] = []
            let next = try partition.forEachRecord(from: Int64(start), maxBytes: 1) { view in
                viewed.append(view.record)
                return true
            }
            #expect(viewed.first?.offset == Int64(start), "reading from \(start)")
            #expect(viewed == Array(owned[start..<(start + viewed.count)]), "reading from \(start)")
            #expect(next == Int64(start + viewed.count), "reading from \(start)")
        }
    }
}
