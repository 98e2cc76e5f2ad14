import Foundation
@testable import Runnel
import Testing

/// Batches built by a Kafka client library (kafka-python's DefaultRecordBatchBuilder), the
/// `.json` beside each `.log` listing every field: `kafka-recordbatch-v2` holds three batches,
/// `kafka-recordbatch-v2-nulls` one batch of tombstones, null keys and null header values.
/// Null (JSON `null`) stays `nil`; only an empty hex string is empty bytes.
struct KafkaFixture {
    struct Batch: Decodable {
        var base_offset: Int64
        var file_position: Int
        var batch_bytes: Int
        var records: [Record]
    }

    struct Record: Decodable {
        var offset: Int64
        var timestamp: Int64
        var key_hex: String?
        var value_hex: String?
        var headers: [[String?]]
    }

    var bytes: [UInt8]
    var batches: [Batch]

    init(_ name: String = "kafka-recordbatch-v2") throws {
        let folder = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        bytes = Array(try Data(contentsOf: folder.appendingPathComponent("\(name).log")))
        struct File: Decodable { var batches: [Batch] }
        batches = try JSONDecoder().decode(File.self, from: Data(contentsOf: folder.appendingPathComponent("\(name).json"))).batches
    }

    static func hex(_ text: String?) -> [UInt8]? {
        guard let text else { return nil }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    func records(of batch: Batch) -> [LogRecord] {
        batch.records.map { record in
            LogRecord(offset: record.offset, timestamp: record.timestamp, key: Self.hex(record.key_hex),
                      value: Self.hex(record.value_hex),
                      headers: record.headers.map { RecordHeader($0[0] ?? "", Self.hex($0.count > 1 ? $0[1] : nil)) })
        }
    }
}

@Suite struct RecordBatchTests {
    @Test func encodingTheFixtureRecordsGivesKafkasBytesExactly() throws {
        let fixture = try KafkaFixture()
        var written: [UInt8] = []
        for batch in fixture.batches {
            #expect(written.count == batch.file_position)
            let bytes = RecordBatch.encode(fixture.records(of: batch), baseOffset: batch.base_offset)
            #expect(bytes.count == batch.batch_bytes)
            written += bytes
        }
        #expect(written == fixture.bytes)
    }

    @Test func decodingKafkasBytesGivesEveryField() throws {
        let fixture = try KafkaFixture()
        try fixture.bytes.withUnsafeBytes { bytes in
            var position = 0
            for batch in fixture.batches {
                let header = try RecordBatch.header(bytes, at: position)
                try RecordBatch.verify(bytes, at: position, header: header)
                #expect(header.baseOffset == batch.base_offset)
                #expect(header.size == batch.batch_bytes)
                #expect(header.producerId == -1)
                #expect(header.recordCount == Int32(batch.records.count))
                #expect(header.maxTimestamp == batch.records.map(\.timestamp).max())
                #expect(try RecordBatch.records(bytes, at: position, header: header) == fixture.records(of: batch))
                position += header.size
            }
            #expect(position == bytes.count)
        }
    }

    @Test func aFlippedBitAnywhereInTheBatchFailsTheChecksum() throws {
        let fixture = try KafkaFixture()
        let batch = Array(fixture.bytes[0..<fixture.batches[0].batch_bytes])
        for position in RecordBatch.crcStart..<batch.count {
            var damaged = batch
            damaged[position] ^= 0x10
            damaged.withUnsafeBytes { bytes in
                let header = try? RecordBatch.header(bytes, at: 0)
                #expect(throws: RecordBatch.Problem.self) { try RecordBatch.verify(bytes, at: 0, header: header!) }
            }
        }
    }

    @Test func aShortBatchIsReportedAsTruncated() throws {
        let fixture = try KafkaFixture()
        for cut in [0, 5, 12, 60, 100, 160] {
            Array(fixture.bytes[0..<cut]).withUnsafeBytes { bytes in
                do {
                    _ = try RecordBatch.header(bytes, at: 0)
                    Issue.record("\(cut) bytes parsed as a batch")
                } catch {
                    #expect((error as? RecordBatch.Problem)?.isTruncation == true)
                }
            }
        }
    }

    /// Recovery and `verify` check records without copying them out (`check`); it must refuse
    /// exactly what decoding them refuses. Every byte of the records section of a batch with
    /// nulls and headers is set to a few values (the CRC does not matter here: neither reads it).
    @Test func checkingRecordsInPlaceRefusesWhatDecodingThemRefuses() throws {
        let fixture = try KafkaFixture("kafka-recordbatch-v2-nulls")
        let batch = Array(fixture.bytes[0..<fixture.batches[0].batch_bytes])
        func verdicts(_ bytes: [UInt8]) -> (check: RecordBatch.Problem?, decode: RecordBatch.Problem?) {
            bytes.withUnsafeBytes { raw in
                guard let header = try? RecordBatch.header(raw, at: 0) else { return (nil, nil) }
                var problems: (RecordBatch.Problem?, RecordBatch.Problem?) = (nil, nil)
                do throws(RecordBatch.Problem) { try RecordBatch.check(raw, at: 0, header: header) } catch { problems.0 = error }
                do throws(RecordBatch.Problem) { _ = try RecordBatch.records(raw, at: 0, header: header) } catch { problems.1 = error }
                return problems
            }
        }
        #expect(verdicts(batch).check == nil)
        var refused = 0
        for position in RecordBatch.headerSize..<batch.count {
            for value: UInt8 in [0x00, 0x01, 0x7F, 0x80, 0xFF, batch[position] ^ 0x02] {
                var changed = batch
                changed[position] = value
                let (check, decode) = verdicts(changed)
                #expect(check == decode, "byte \(position) set to \(value): check \(String(describing: check)), decode \(String(describing: decode))")
                if check != nil { refused += 1 }
            }
        }
        // The changes do reach the checks: many of them make records that do not parse.
        #expect(refused > 100)
    }

    @Test func roundTripOfNullsEmptiesAndLargeValues() throws {
        let records = [
            LogRecord(timestamp: 5, key: nil, value: nil),
            LogRecord(timestamp: 3, key: [], value: [], headers: [RecordHeader("h", nil), RecordHeader("h", [1])]),
            LogRecord(timestamp: 1 << 40, key: Array(repeating: 7, count: 300), value: Array(repeating: 9, count: 200_000)),
        ]
        let bytes = RecordBatch.encode(records, baseOffset: 1_000)
        try bytes.withUnsafeBytes { raw in
            let header = try RecordBatch.header(raw, at: 0)
            try RecordBatch.verify(raw, at: 0, header: header)
            let decoded = try RecordBatch.records(raw, at: 0, header: header)
            #expect(decoded.map(\.offset) == [1_000, 1_001, 1_002])
            #expect(decoded.map(\.timestamp) == records.map(\.timestamp))
            #expect(decoded.map(\.key) == records.map(\.key))
            #expect(decoded.map(\.value) == records.map(\.value))
            #expect(decoded[1].headers == records[1].headers)
        }
    }
}

@Suite struct ChecksumAndPartitionerTests {
    @Test func crc32cMatchesTheStandardCheckValues() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        let data = (0..<1_000).map { UInt8($0 % 251) }
        let split = data.withUnsafeBytes { bytes in
            CRC32C.update(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[..<333])), UnsafeRawBufferPointer(rebasing: bytes[333...]))
        }
        #expect(split == CRC32C.checksum(data))
    }

    @Test func theCPUInstructionAndTheTablesAgree() {
        var random = SeededGenerator(seed: 7)
        for length in [0, 1, 7, 8, 9, 63, 64, 65, 1_000, 4_096, 100_003] {
            let data = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            data.withUnsafeBytes { bytes in
                #expect(CRC32C.update(0, bytes) == CRC32C.updateInSoftware(0, bytes), "length \(length)")
                #expect(CRC32C.update(0x1234_5678, bytes) == CRC32C.updateInSoftware(0x1234_5678, bytes), "length \(length)")
            }
        }
    }

    /// Vectors from Kafka's own `UtilsTest.testMurmur2`.
    @Test(arguments: [
        ("21", Int32(-973_932_308)),
        ("foobar", -790_332_482),
        ("a-little-bit-long-string", -985_981_536),
        ("a-little-bit-longer-string", -1_486_304_829),
        ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
        ("abc", 479_470_107),
    ])
    func murmur2MatchesKafka(_ key: String, _ expected: Int32) {
        #expect(Murmur2.hash(Array(key.utf8)) == expected)
    }

    @Test func partitionsFollowKafkasDefaultPartitioner() {
        // (murmur2 & 0x7fffffff) % n, computed from Kafka's vectors above.
        #expect(Murmur2.partition(forKey: Array("21".utf8), partitions: 10) == Int((Int32(-973_932_308) & 0x7FFF_FFFF) % 10))
        #expect(Murmur2.partition(forKey: Array("foobar".utf8), partitions: 7) == Int((Int32(-790_332_482) & 0x7FFF_FFFF) % 7))
        for partitions in 1...16 {
            #expect((0..<partitions).contains(Murmur2.partition(forKey: Array("member:42".utf8), partitions: partitions)))
        }
    }
}
