import Foundation
@testable import Runnel
import RunnelTesting
import Testing

/// Runnel's segments read by a Kafka client library (kafka-python's RecordBatch reader), as
/// DESIGN.md §3 promises. `.ci/run` installs kafka-python and sets `RUNNEL_REQUIRE_KAFKA_PYTHON`;
/// elsewhere the test runs when python3 can import it.
@Suite struct KafkaClientCompatibilityTests {
    static var kafkaPythonAvailable: Bool {
        if ProcessInfo.processInfo.environment["RUNNEL_REQUIRE_KAFKA_PYTHON"] != nil { return true }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import kafka.record.default_records"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }

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
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        reader.arguments = ["python3", script.path, partition.folder.appendingPathComponent(LogSegment.name(0, "log")).path]
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
