import Foundation
@testable import Runnel
@testable import RunnelKafka
import RunnelTesting
import Testing

/// librdkafka's mock cluster in a `runnel-kafka-mock` child process: it outlives the relays and
/// mirrors the tests kill, and takes commands (topics, injected errors, brokers down and up) on
/// its standard input. It ends with this value (its input closes) or with the test process.
final class MockCluster: @unchecked Sendable {
    // @unchecked: used from the test's thread only.
    let process: Process
    let bootstrapServers: String
    private let input: FileHandle
    private let output: FileHandle

    init(brokers: Int = 3) throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("runnel-kafka-mock")
        let stdin = Pipe(), stdout = Pipe()
        process = Process()
        process.executableURL = executable
        process.arguments = ["--brokers", String(brokers)]
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        input = stdin.fileHandleForWriting
        output = stdout.fileHandleForReading
        let first = Self.line(from: output)
        guard first.hasPrefix("bootstrap.servers=") else {
            throw RunnelError(.kafka, "runnel-kafka-mock said \(first.debugDescription) instead of its bootstrap servers")
        }
        bootstrapServers = String(first.dropFirst("bootstrap.servers=".count))
    }

    deinit {
        try? input.close()
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    private static func line(from handle: FileHandle) -> String {
        var bytes: [UInt8] = []
        while let byte = try? handle.read(upToCount: 1), let first = byte.first, first != UInt8(ascii: "\n") {
            bytes.append(first)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Sends a command and fails unless the cluster answers `ok`.
    func command(_ line: String) throws {
        input.write(Data((line + "\n").utf8))
        let answer = Self.line(from: output)
        guard answer == "ok" else { throw RunnelError(.kafka, "mock cluster: `\(line)` answered \(answer.debugDescription)") }
    }

    /// Makes a topic (the mock has no CreateTopics API, and makes a topic that any client asks
    /// about with 4 partitions).
    func createTopic(_ name: String, partitions: Int) throws {
        try command("topic \(name) \(partitions)")
    }

    /// For `runnel` children: the mock answers an empty fetch only after the consumer's
    /// longest wait (500 ms by default), even when records arrive meanwhile, where a broker
    /// answers as they arrive.
    static let quickFetch = "fetch.wait.max.ms=5"

    /// Settings with short timeouts, so a test of a broker that is down does not wait long.
    /// The mock answers an empty fetch only after the consumer's longest wait, even when
    /// records arrive meanwhile (a broker answers as they arrive): a short wait keeps the
    /// many small reads of the saga rounds fast.
    func settings(timeout: Duration = .seconds(10)) -> KafkaSettings {
        KafkaSettings(bootstrapServers: bootstrapServers, properties: ["fetch.wait.max.ms": "5"], requestTimeout: timeout, deliveryTimeout: timeout)
    }

    /// How many records the topics hold, from their partitions' offsets.
    func recordCount(of topics: [String]) throws -> Int64 {
        let reader = try KafkaReader(settings: settings())
        var total: Int64 = 0
        for topic in topics {
            for partition in 0..<(try reader.partitionCount(of: topic) ?? 0) {
                let (low, high) = try reader.watermarks(topic, partition)
                total += high - low
            }
        }
        return total
    }

    /// Every record of a topic, by partition, read with Runnel's own consumer.
    func records(of topic: String) throws -> [Int: [LogRecord]] {
        try Self.records(in: RecordSource.kafka(settings()), of: topic)
    }

    /// Every record of a topic in a source (the cluster, a home's log), by partition.
    static func records(in source: RecordSource, of topic: String) throws -> [Int: [LogRecord]] {
        var found: [Int: [LogRecord]] = [:]
        for partition in try source.reader.partitions(of: topic) ?? [] {
            var records: [LogRecord] = []
            _ = try partition.read(from: partition.startOffset) { view in
                records.append(view.record)
                return true
            }
            found[partition.partition] = records
        }
        return found
    }

    /// Every record of a topic, read by `kcat`, an independent client: by partition, in order.
    func recordsByKcat(of topic: String) throws -> [Int: [LogRecord]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["kcat", "-b", bootstrapServers, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-J"]
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw RunnelError(.kafka, "kcat exited \(process.terminationStatus): \(errors) (install it: apt-get install kcat)")
        }
        var found: [Int: [LogRecord]] = [:]
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let partition = object["partition"] as? Int, let offset = object["offset"] as? Int64 else {
                throw RunnelError(.kafka, "kcat printed a line that is not a record: \(String(decoding: line, as: UTF8.self))")
            }
            let pairs = object["headers"] as? [String] ?? []
            let headers = stride(from: 0, to: pairs.count - 1, by: 2).map { RecordHeader(pairs[$0], pairs[$0 + 1]) }
            found[partition, default: []].append(LogRecord(
                offset: offset, timestamp: object["ts"] as? Int64 ?? -1,
                key: (object["key"] as? String).map { Array($0.utf8) }, value: (object["payload"] as? String).map { Array($0.utf8) },
                headers: headers))
        }
        return found
    }
}
