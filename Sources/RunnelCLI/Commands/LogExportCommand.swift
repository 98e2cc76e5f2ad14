import ArgumentParser
import Foundation
import Runnel

/// `runnel log export --kafka-layout DIR [--topics a,b]`.
struct LogExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Copy the log's segments into a folder in Kafka's layout (<topic>-<partition>/).",
        discussion: """
            Runnel keeps a partition in log/<topic>/<partition>/; a Kafka broker keeps it in \
            <log.dirs>/<topic>-<partition>/. The segment files themselves are the same: \
            <20-digit base offset>.log holding record batches (magic 2, CRC-32C), with its .index \
            and .timeindex. This copies every segment (or those of --topics) into DIR in Kafka's \
            layout, holding the log's writer lock so no relay appends meanwhile, and checks each \
            copy byte for byte. DIR must be new or empty. To move a running installation onto a \
            cluster, `runnel log mirror --to kafka` is the way; the export is for inspection with \
            Kafka's tools (kafka-dump-log.sh --files DIR/orders-0/00000000000000000000.log) and \
            for archives.
            """)

    @Option(name: .customLong("kafka-layout"), help: ArgumentHelp("The folder to write (new or empty).", valueName: "dir"))
    var folder: String
    @Option(help: ArgumentHelp("Only these topics (comma-separated); default every topic.", valueName: "topics"))
    var topics: String?
    @OptionGroup var home: HomeOptions

    func run() throws {
        let target = URL(fileURLWithPath: folder).standardizedFileURL
        let manager = FileManager.default
        if let existing = try? manager.contentsOfDirectory(atPath: target.path), !existing.isEmpty {
            throw RunnelError(.invalidArgument, "\(target.path) is not empty", hint: "Export into a new or empty folder; nothing was written")
        }
        let chosen = topics.map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
        let (partitions, segments, bytes) = try LogCommand.maintaining(home) { log -> (Int, Int, Int) in
            if let chosen, let missing = chosen.first(where: { !log.topicNames.contains($0) }) {
                throw RunnelError(.notFound, "no topic \(missing) in \(log.folder.path)", hint: "`runnel log topics` lists them")
            }
            try manager.createDirectory(at: target, withIntermediateDirectories: true)
            var counts = (partitions: 0, segments: 0, bytes: 0)
            for name in log.topicNames where chosen?.contains(name) ?? true {
                for partition in try LogCommand.topic(log, name).partitions {
                    let destination = target.appendingPathComponent("\(name)-\(partition.partition)", isDirectory: true)
                    try manager.createDirectory(at: destination, withIntermediateDirectories: false)
                    let files = try manager.contentsOfDirectory(atPath: partition.folder.path).sorted()
                        .filter { $0.hasSuffix(".log") || $0.hasSuffix(".index") || $0.hasSuffix(".timeindex") }
                    for file in files {
                        let source = partition.folder.appendingPathComponent(file)
                        let copy = destination.appendingPathComponent(file)
                        do {
                            try manager.copyItem(at: source, to: copy)
                        } catch {
                            throw RunnelError(.io, "cannot copy \(source.path) to \(copy.path): \(error.localizedDescription)",
                                              hint: "Check the space and rights of \(target.path), then export again into an empty folder")
                        }
                        guard manager.contentsEqual(atPath: source.path, andPath: copy.path) else {
                            throw RunnelError(.io, "the copy \(copy.path) differs from \(source.path)",
                                              hint: "Check the disk of \(target.path), then export again into an empty folder")
                        }
                        if file.hasSuffix(".log") {
                            counts.segments += 1
                            counts.bytes += (try? manager.attributesOfItem(atPath: copy.path)[.size] as? Int) ?? 0
                        }
                    }
                    counts.partitions += 1
                }
            }
            return counts
        }
        CLIContext.current.console.print("Exported \(partitions) partitions (\(segments) segments, \(bytes) bytes) into \(target.path) in Kafka's layout: <topic>-<partition>/<base offset>.log, .index, .timeindex.")
    }
}
