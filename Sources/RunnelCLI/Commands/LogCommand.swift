import ArgumentParser
import Foundation
import GRDB
import Runnel

/// `runnel log …`: topics, records and maintenance of the file-segment log.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Look at and maintain the file-segment log (Kafka-compatible segments under log/).",
        subcommands: [LogTopics.self, LogCreate.self, LogDescribe.self, LogTail.self, LogVerify.self, LogRepair.self,
                      LogRetention.self, LogCompact.self, LogMirrorCommand.self, LogExportCommand.self])

    /// Opens the log to read.
    static func reading(_ home: HomeOptions) throws -> Log {
        try Log.openForReading(home.resolved.logURL)
    }

    /// Opens the log to maintain it (taking the writer's lock, saying what checking the tails
    /// found), runs `body` on it, closes it.
    static func maintaining<T>(_ home: HomeOptions, _ body: (Log) throws -> T) throws -> T {
        let store = try Store.open(home.resolved)
        let log = try Log.open(store.home.logURL)
        for report in log.recoveryReports where report.needsAttention {
            CLIContext.current.console.note("warning: \(report)")
        }
        let result: T
        do {
            result = try body(log)
        } catch {
            // The body's failure is the one to report; closing still records what it did.
            try? log.close()
            throw error
        }
        try log.close()
        return result
    }

    static func topic(_ log: Log, _ name: String) throws -> LogTopic {
        guard let topic = try log.topic(name) else {
            throw RunnelError(.notFound, "no topic \(name) in \(log.folder.path)", hint: "`runnel log topics` lists them")
        }
        return topic
    }
}

struct LogTopics: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics", abstract: "List topics with their partitions, records and bytes.",
        discussion: "records counts the offsets the segment files hold: offsets in a gap (a lost segment) are not counted; records compaction removed are.")
    @OptionGroup var home: HomeOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        let log = try LogCommand.reading(home)
        let rows = try log.topicNames.map { name -> [DatabaseValue] in
            let topic = try LogCommand.topic(log, name)
            let records = topic.partitions.reduce(Int64(0)) { $0 + $1.heldOffsetCount }
            let bytes = topic.partitions.reduce(0) { $0 + $1.sizeInBytes }
            return [name.databaseValue, topic.configuration.partitions.databaseValue, records.databaseValue, bytes.databaseValue,
                    topic.configuration.compact.databaseValue]
        }
        RowPrinter(format: output.format, console: CLIContext.current.console)
            .print(columns: ["topic", "partitions", "records", "bytes", "compact"], rows: rows)
    }
}

struct LogCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a topic (its partition count is fixed from then on).")
    @Argument(help: "The topic name: letters, digits, '.', '_', '-'.") var topic: String
    @Option(help: "Number of partitions.") var partitions = 1
    @Flag(help: "Keep only the newest record per key in closed segments.") var compact = false
    @Option(help: "Delete closed segments older than this many hours.") var retentionHours: Int?
    @Option(help: "Delete the oldest closed segments while a partition is larger than this.") var retentionBytes: Int64?
    @Option(help: "Roll segments past this many bytes.") var segmentBytes = 64 << 20
    @Option(help: "The largest record accepted, in bytes.") var maxRecordBytes = 1_048_588
    @OptionGroup var home: HomeOptions

    func run() throws {
        var configuration = TopicConfiguration(partitions: partitions, segmentBytes: segmentBytes, compact: compact, maxRecordBytes: maxRecordBytes)
        if let retentionHours { configuration.retentionMs = Int64(retentionHours) * 3_600_000 }
        configuration.retentionBytes = retentionBytes
        try LogCommand.maintaining(home) { log in _ = try log.createTopic(topic, configuration) }
        CLIContext.current.console.print("Created topic \(topic) with \(partitions) partition\(partitions == 1 ? "" : "s").")
    }
}

struct LogDescribe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe", abstract: "Show a topic's settings, partitions, offsets and segments.",
        discussion: "Each segment's offsets are read from its own last batch; a range no segment holds is shown as a gap.")
    @Argument(help: "The topic.") var topic: String
    @OptionGroup var home: HomeOptions

    func run() throws {
        let console = CLIContext.current.console
        let topic = try LogCommand.topic(try LogCommand.reading(home), self.topic)
        let c = topic.configuration
        console.print("topic \(topic.name): \(c.partitions) partition(s), compact \(c.compact), retention \(c.retentionMs.map { "\($0 / 3_600_000) h" } ?? "none")"
            + "\(c.retentionBytes.map { ", \($0) bytes" } ?? ""), segments of \(c.segmentBytes) bytes, records up to \(c.maxRecordBytes) bytes")
        for partition in topic.partitions {
            let gaps = partition.gaps
            let missing = gaps.reduce(Int64(0)) { $0 + $1.count }
            console.print("partition \(partition.partition): offsets \(partition.startOffset)..<\(partition.endOffset), \(partition.sizeInBytes) bytes"
                + (gaps.isEmpty ? "" : ", \(partition.heldOffsetCount) offsets held, \(missing) missing in \(gaps.count) gap(s)"))
            for segment in partition.segmentSummaries {
                if let gap = gaps.first(where: { $0.endOffset == segment.baseOffset }) {
                    console.print("  gap: offsets \(gap.firstOffset)..<\(gap.endOffset) missing (\(gap.count) records; no segment holds them)")
                }
                console.print("  \(LogSegmentName.name(segment.baseOffset))  offsets \(segment.baseOffset)..<\(segment.nextOffset)  \(segment.bytes) bytes")
            }
            if let lost = partition.missingLastSegment {
                console.print("  gap: \(lost.file.lastPathComponent) (offsets from \(lost.baseOffset) on), named by the recovery checkpoint, is gone")
            }
        }
    }
}

/// The file name of a segment, for output.
enum LogSegmentName {
    static func name(_ base: Int64) -> String {
        let digits = String(base)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".log"
    }
}

struct LogVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check the CRC of every batch of every segment, and that the segments' offsets follow on.",
        discussion: "Exits 1 when a batch is damaged or offsets are missing between two segments (a gap: a segment file was deleted or lost).")
    @OptionGroup var home: HomeOptions

    func run() throws {
        let console = CLIContext.current.console
        let log = try LogCommand.reading(home)
        var damaged = 0
        var gaps = 0
        var first: String?
        func found(_ problem: String) {
            first = first ?? problem
            console.print(problem)
        }
        let partitions = try log.partitions()
        for partition in partitions {
            for damage in partition.verify() {
                damaged += 1
                found("damaged: \(partition.topic)/\(partition.partition): \(damage)")
            }
            for gap in partition.gaps {
                gaps += 1
                found("gap: \(partition.topic)/\(partition.partition): \(gap)")
            }
            if let lost = partition.missingLastSegment {
                gaps += 1
                found("gap: \(partition.topic)/\(partition.partition): the last segment \(lost.file.path), named by the partition's recovery-checkpoint, "
                    + "is gone: the records from offset \(lost.baseOffset) on are lost")
            }
        }
        // Kept for `runnel status --check`, which reports damage without reading the log again.
        if home.resolved.isInitialized {
            try Verifications.record(Verifications.logTarget, damaged: damaged + gaps, firstDamage: first, in: try Store.open(home.resolved))
        }
        guard damaged == 0 else {
            throw RunnelError(.corruptLog, "\(damaged) damaged batch(es)\(gaps > 0 ? " and \(gaps) gap(s)" : "") in the log at \(log.folder.path)",
                              hint: "`runnel log repair` cuts each damaged partition at its first bad batch (it says what it drops first)")
        }
        guard gaps == 0 else {
            throw RunnelError(.logGap, "\(gaps) gap(s) in the log at \(log.folder.path): offsets missing between segments or after the last one",
                              hint: "Restore the missing segment files from a backup; `runnel log repair` cannot recreate records")
        }
        console.print("Verified \(partitions.count) partition(s): every batch is intact and the offsets follow on.")
    }
}

struct LogRepair: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair", abstract: "Cut each damaged partition at its first bad batch.",
        discussion: """
            Says what it would drop and asks for --yes before dropping anything. A gap (offsets missing \
            between two segments) cannot be repaired: it names the gap and exits 1; restore the segment \
            file, or run pipelines with --skip-gap.
            """)
    @Flag(help: "Really cut the damaged partitions.") var yes = false
    @OptionGroup var home: HomeOptions

    func run() throws {
        let console = CLIContext.current.console
        var gaps = 0
        let found = try LogCommand.maintaining(home) { log in
            var found = false
            for partition in try log.partitions() {
                for gap in partition.gaps {
                    console.print("\(partition.topic)/\(partition.partition): \(gap); repair cannot recreate them: restore the missing segment file, "
                        + "or run pipelines with --skip-gap to go on past them")
                }
                guard let damage = partition.verify().first else { continue }
                found = true
                let name = "\(partition.topic)/\(partition.partition)"
                console.print("\(name): first damage at \(damage); the partition would be cut there (offsets up to \(partition.endOffset) affected)")
                if yes, let report = try partition.repair() {
                    console.print("  cut: \(report.truncatedBytes) bytes (\(report.droppedRecords) records) dropped; the partition now ends at offset \(partition.endOffset)")
                }
            }
            // A cut deletes the segments after it, and any gap among them.
            gaps = try log.partitions().reduce(0) { $0 + $1.gaps.count }
            return found
        }
        if !found { console.print(gaps == 0 ? "Nothing to repair: every batch is intact." : "No damaged batch to cut.") }
        else if !yes { console.print("Nothing changed. Run again with --yes to cut.") }
        if gaps > 0 {
            throw RunnelError(.logGap, "\(gaps) gap(s) remain in the log: repair cannot recreate missing records",
                              hint: "Restore the missing segment files from a backup; pipelines stop at a gap unless run with `runnel run --skip-gap`")
        }
    }
}

struct LogRetention: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "retention", abstract: "List (or with --apply delete) segments past their topic's retention.")
    @Flag(help: "Delete them.") var apply = false
    @OptionGroup var home: HomeOptions

    func run() throws {
        let console = CLIContext.current.console
        let total = try LogCommand.maintaining(home) { log in
            var total = 0
            for partition in try log.partitions() {
                let expired = partition.expiredSegments()
                guard !expired.isEmpty else { continue }
                total += expired.count
                console.print("\(partition.topic)/\(partition.partition): \(expired.count) expired segment(s) from offset \(expired[0])")
                if apply { try partition.applyRetention() }
            }
            return total
        }
        console.print(total == 0 ? "No segment is past its retention." : apply ? "Deleted \(total) segment(s)." : "Run with --apply to delete them.")
    }
}

struct LogCompact: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compact", abstract: "Compact a topic marked --compact: newest record per key in closed segments.")
    @Argument(help: "The topic.") var topic: String
    @OptionGroup var home: HomeOptions

    func run() throws {
        try LogCommand.maintaining(home) { log in
            let topic = try LogCommand.topic(log, self.topic)
            guard topic.configuration.compact else {
                throw RunnelError(.invalidArgument, "topic \(self.topic) is not compacted", hint: "Compaction is for topics created with --compact")
            }
            for partition in topic.partitions {
                let result = try partition.compact()
                CLIContext.current.console.print("\(self.topic)/\(partition.partition): \(result.recordsRemoved) records removed, "
                    + "\(result.bytesBefore) → \(result.bytesAfter) bytes")
            }
        }
    }
}
