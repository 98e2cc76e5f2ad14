import ArgumentParser
import Foundation
import Runnel

/// `runnel log tail`.
struct LogTail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail", abstract: "Print records of a topic.",
        discussion: """
            Without --from or --from-time, prints the last --limit records (default 10) of each partition \
            (then, with --follow, every new one); with them, at most --limit records from there. \
            JSON lines carry topic, partition, offset, timestamp (ms), key, headers and value (JSON values \
            are embedded; other values are strings, or base64 when not UTF-8). At a gap (offsets a lost \
            segment held) it prints the records before it, then stops with an error naming the gap.
            """)

    @Argument(help: "The topic.") var topic: String
    @Option(help: "Only this partition.") var partition: Int?
    @Option(help: "Start at this offset.") var from: Int64?
    @Option(help: ArgumentHelp("Start at the first record at or after this time (ISO 8601).", valueName: "time")) var fromTime: String?
    @Option(help: "How many of the last records to show (default 10); with --from or --from-time, the most to print per partition.") var limit: Int?
    @Flag(help: "Keep printing records as they are appended.") var follow = false
    @OptionGroup var home: HomeOptions
    @OptionGroup var output: FormatOptions

    func validate() throws {
        if from != nil, fromTime != nil { throw ValidationError("give --from or --from-time, not both") }
        if let fromTime, Self.parseTime(fromTime) == nil { throw ValidationError("--from-time \(fromTime) is not an ISO 8601 time such as 2026-01-05T09:00:00Z") }
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
    }

    static func parseTime(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    func run() async throws {
        let console = CLIContext.current.console
        let log = try LogCommand.reading(home)
        let topic = try LogCommand.topic(log, self.topic)
        if let partition, !(0..<topic.partitions.count).contains(partition) {
            throw RunnelError(.invalidArgument, "topic \(self.topic) has partitions 0..<\(topic.partitions.count), not \(partition)")
        }
        let partitions = partition.map { [topic.partitions[$0]] } ?? topic.partitions
        var positions: [Int64] = []
        for partition in partitions {
            if let from {
                positions.append(max(from, partition.startOffset))
            } else if let fromTime, let date = Self.parseTime(fromTime) {
                positions.append(try partition.offset(forTimestamp: date.millisecondsSince1970) ?? partition.endOffset)
            } else {
                positions.append(max(partition.startOffset, partition.endOffset - Int64(limit ?? 10)))
            }
        }
        // Without a start, --limit picks how far back to begin (the last N records) and then
        // everything after is printed, as `tail -f` does; with a start, it caps the records.
        let cap = from != nil || fromTime != nil ? limit : nil
        var printed = Array(repeating: 0, count: partitions.count)
        var rows: [[String]] = []
        func printRows() {
            guard output.format != .json, !rows.isEmpty else { return }
            let values = rows.map { $0.map { $0.databaseValue } }
            RowPrinter(format: output.format, console: console)
                .print(columns: ["partition", "offset", "timestamp", "key", "type", "value"], rows: values)
            rows = []
        }
        repeat {
            for (index, partition) in partitions.enumerated() {
                try partition.refresh()
                while positions[index] < partition.endOffset, cap.map({ printed[index] < $0 }) ?? true {
                    var records: [LogRecord] = []
                    let next: Int64
                    do {
                        // Where to go on comes from the read itself: past the offsets compaction
                        // removed (a batch it emptied holds no records but still ends a segment).
                        next = try partition.forEachRecord(from: positions[index], maxBytes: 256 << 10) { record in
                            records.append(record.record)
                            return true
                        }
                    } catch let error as RunnelError where error.code == .logGap {
                        // Show the records before the gap, then stop with what is missing.
                        printRows()
                        throw error
                    }
                    guard next > positions[index] else { break }
                    for record in records where cap.map({ printed[index] < $0 }) ?? true {
                        printed[index] += 1
                        if output.format == .json {
                            console.print(jsonLine(record, partition: partition.partition))
                        } else {
                            rows.append(cells(record, partition: partition.partition))
                        }
                    }
                    positions[index] = next
                }
            }
            printRows()
            if follow { try await Task.sleep(for: .milliseconds(100)) }
        } while follow && !Task.isCancelled
    }

    private func text(_ bytes: [UInt8]?) -> String? {
        bytes.map { String(decoding: $0, as: UTF8.self) }
    }

    private func cells(_ record: LogRecord, partition: Int) -> [String] {
        [String(partition), String(record.offset), ISO8601DateFormatter().string(from: Date(millisecondsSince1970: record.timestamp)),
         text(record.key) ?? "NULL", text(record.header("type")) ?? "", text(record.value) ?? "NULL"]
    }

    private func jsonLine(_ record: LogRecord, partition: Int) -> String {
        let headers = record.headers.map { "\(JSONText.quoted($0.key)):\(value($0.value, embedJSON: false))" }.joined(separator: ",")
        return "{\"topic\":\(JSONText.quoted(topic)),\"partition\":\(partition),\"offset\":\(record.offset),\"timestamp\":\(record.timestamp),"
            + "\"key\":\(value(record.key, embedJSON: false)),\"headers\":{\(headers)},\"value\":\(value(record.value, embedJSON: true))}"
    }

    private func value(_ bytes: [UInt8]?, embedJSON: Bool) -> String {
        guard let bytes else { return "null" }
        guard let text = String(validating: bytes, as: UTF8.self) else { return JSONText.quoted(Data(bytes).base64EncodedString()) }
        if embedJSON, (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil {
            return text
        }
        return JSONText.quoted(text)
    }
}
