import Foundation
@testable import Runnel
import RunnelTesting
import Testing

/// Runnel's segments read by a Kafka client library (kafka-python's RecordBatch reader).
///
/// The test runs the Python named by `RUNNEL_KAFKA_PYTHON` (default `python3` on the path).
/// `.ci/run` installs a pinned kafka-python in a virtual environment, points
/// `RUNNEL_KAFKA_PYTHON` at it and sets `RUNNEL_REQUIRE_KAFKA_PYTHON=1`: the test then fails,
/// never skips, when that Python cannot import kafka-python. Elsewhere it runs when it can.
@Suite struct KafkaClientCompatibilityTests {
    static let environment = ProcessInfo.processInfo.environment
    static let python = environment["RUNNEL_KAFKA_PYTHON"] ?? "python3"
    static let required = environment["RUNNEL_REQUIRE_KAFKA_PYTHON"] == "1"

    /// A process running `python` (a path, or a name looked up on the path).
    static func pythonProcess(_ arguments: [String]) -> Process {
        let process = Process()
        if python.contains("/") {
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [python] + arguments
        }
        return process
    }

    static var kafkaPythonImports: Bool {
        let probe = pythonProcess(["-c", "import kafka.record.default_records"])
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }

    static var kafkaPythonAvailable: Bool { required || kafkaPythonImports }

    struct Read: Decodable, Equatable {
        var offset: Int64
        var timestamp: Int64
        var key: String?
        var value: String?
        var headers: [[String?]]
    }

    static func hex(_ bytes: [UInt8]?) -> String? {
        bytes.map { $0.map { String(format: "%02x", $0) }.joined() }
    }

    @Test(.enabled(if: kafkaPythonAvailable))
    func aKafkaClientReadsEveryRecordOfARunnelSegment() throws {
        try #require(Self.kafkaPythonImports, """
            RUNNEL_REQUIRE_KAFKA_PYTHON=1, but \(Self.python) cannot import kafka-python (kafka.record.default_records): \
            install it (`python3 -m venv .build-venv && .build-venv/bin/pip install kafka-python==3.0.12`) \
            and set RUNNEL_KAFKA_PYTHON=.build-venv/bin/python, as .ci/run does
            """)
        let temporary = try TemporaryHome(label: "kafka-python")
        let log = try Log.open(temporary.folder.appendingPathComponent("log"))
        let partition = try log.createTopic("interop").partitions[0]
        var written: [LogRecord] = []
        for batch in 0..<5 {
            let records = (0..<50).map { index -> LogRecord in
                let n = batch * 50 + index
                return LogRecord(timestamp: 1_763_000_000_000 + Int64(n * 7 % 13) - 6, key: n % 9 == 0 ? nil : Array("member:\(n % 17)".utf8),
                                 value: n % 11 == 0 ? nil : Array("{\"n\":\(n)}".utf8),
                                 headers: [RecordHeader("outbox-id", String(n)), RecordHeader("empty", n % 2 == 0 ? [] : nil)])
            }
            let base = try partition.append(records)
            written += records.enumerated().map { var record = $1; record.offset = base + Int64($0); return record }
        }
        try log.close()

        let script = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).appendingPathComponent("read_with_kafka_python.py")
        let reader = Self.pythonProcess([script.path, partition.folder.appendingPathComponent(LogSegment.name(0, "log")).path])
        let output = Pipe()
        reader.standardOutput = output
        try reader.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        reader.waitUntilExit()
        #expect(reader.terminationStatus == 0)
        let read = try String(decoding: data, as: UTF8.self).split(separator: "\n").map { try JSONDecoder().decode(Read.self, from: Data($0.utf8)) }
        let expected = written.map { record in
            Read(offset: record.offset, timestamp: record.timestamp, key: Self.hex(record.key), value: Self.hex(record.value),
                 headers: record.headers.map { [$0.key, Self.hex($0.value)] })
        }
        #expect(read == expected)
    }
}

/// Tombstones and null headers as a Kafka client writes them (`Fixtures/kafka-recordbatch-v2-nulls`,
/// built with kafka-python's DefaultRecordBatchBuilder by `build_kafka_nulls_fixture.py`): null
/// stays null both ways and is never confused with empty bytes. Runs everywhere, without Python.
@Suite struct KafkaNullFixtureTests {
    @Test func encodingNullValuesKeysAndHeadersGivesKafkasBytesExactly() throws {
        let fixture = try KafkaFixture("kafka-recordbatch-v2-nulls")
        let batch = try #require(fixture.batches.first)
        #expect(RecordBatch.encode(fixture.records(of: batch), baseOffset: batch.base_offset) == fixture.bytes)
    }

    @Test func decodingKafkasNullsKeepsThemNilAndEmptiesEmpty() throws {
        let fixture = try KafkaFixture("kafka-recordbatch-v2-nulls")
        let batch = try #require(fixture.batches.first)
        let decoded = try fixture.bytes.withUnsafeBytes { bytes in
            let header = try RecordBatch.header(bytes, at: 0)
            try RecordBatch.verify(bytes, at: 0, header: header)
            #expect(header.size == fixture.bytes.count)
            return try RecordBatch.records(bytes, at: 0, header: header)
        }
        #expect(decoded == fixture.records(of: batch))
        try #require(decoded.count == 4)
        #expect(decoded[0].value == nil)                                    // a tombstone
        #expect(decoded[0].headers == [RecordHeader("outbox-id", "41"), RecordHeader("deleted-by", nil)])
        #expect(decoded[1].key == nil && decoded[1].value == [])            // no key, an empty value
        #expect(decoded[1].headers == [RecordHeader("trace", []), RecordHeader("reason", nil)])
        #expect(decoded[2].value == nil && decoded[2].headers.isEmpty)
        #expect(decoded[3].key == [])
    }
}
