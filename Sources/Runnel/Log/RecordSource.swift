import Foundation
import Logging
import ServiceLifecycle

/// Where a pipeline reads its records: the home's file log (the default), or with RunnelKafka
/// the topics of a Kafka cluster (`RecordSource.kafka(…)`), optionally only some partitions,
/// so several machines split a topic, each with its own `derived.sqlite`.
///
/// ```swift
/// let runner = try PipelineRunner(pipeline: engagement, store: store,
///                                 source: .log(try Log.openForReading(store.home.logURL), partitions: "0-1"))
/// ```
///
/// The pipeline's offsets are stored in `derived.sqlite` with its views and state, whichever
/// the source; a pipeline whose state was read from one source is refused on another (offsets
/// of one log mean nothing in another) until it is rebuilt.
public struct RecordSource: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: a source is opened and read by one runner, on one thread at a time.
    package let reader: any SourceReader

    package init(_ reader: any SourceReader) {
        self.reader = reader
    }

    /// A log's topics, all partitions or the selected ones.
    public static func log(_ log: Log, partitions: PartitionSelection? = nil) -> RecordSource {
        RecordSource(LogSourceReader(log: log, selection: partitions))
    }

    public var description: String { reader.description }
}

extension RecordSource {
    /// A follower's source, made when it starts.
    package enum ForFollower {
        /// The home's log (no source was asked for).
        case homeLog
        /// The source, told it is followed (``SourceReader/beginFollowing()``).
        case source(RecordSource)
        /// A graceful shutdown began while the source could not be reached yet.
        case stopped
    }

    /// Makes a follower's source, waiting for one that cannot be reached yet (a Kafka cluster
    /// that is down when the follower starts: `RunnelError.Code.kafka`) — logged, and tried
    /// again after a ``RetryDelay`` — until it can, or a graceful shutdown begins.
    package static func forFollower(_ make: (() throws -> RecordSource)?, logger: Logger, runner: String) async throws -> ForFollower {
        guard let make else { return .homeLog }
        var retry = RetryDelay()
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                let source = try make()
                source.reader.beginFollowing()
                return .source(source)
            } catch let error as RunnelError where error.code == .kafka {
                logger.warning("cannot reach the source yet; waiting for it", metadata: [
                    "runner": "\(runner)", "error": "\(error)", "retry_in": "\(retry.current)",
                ])
                await retry.wait()
            }
        }
        return .stopped
    }

    /// The source of a ``ForFollower``; nil for the home's log.
    package static func followed(_ made: ForFollower) -> RecordSource? {
        if case .source(let source) = made { return source }
        return nil
    }
}

/// Which partitions of each topic a source reads: `0-3`, `0,2`, `4-7,9`.
public struct PartitionSelection: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The selected partition numbers, as ranges.
    public let ranges: [ClosedRange<Int>]

    /// Parses `0-3`, `1`, `0,2,5-7`.
    /// - Throws: ``RunnelError`` `.invalidArgument` for anything else.
    public init(parsing text: String) throws {
        var ranges: [ClosedRange<Int>] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(bounds.count), let low = bounds.first ?? nil, let high = bounds.last ?? nil, low >= 0, low <= high else {
                throw RunnelError(.invalidArgument, "partitions \"\(text)\" are not a list of partition numbers and ranges",
                                  hint: "Write them as 0-3, or 0,2, or 0-1,4-5")
            }
            ranges.append(low...high)
        }
        // One spelling per set of partitions (`1,0` and `0-1` are the same share), since the
        // selection is part of a pipeline's recorded source.
        var merged: [ClosedRange<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        self.ranges = merged
    }

    public init(stringLiteral value: String) {
        // A literal in code is the programmer's: a bad one is a bug, caught at once.
        do { try self.init(parsing: value) } catch { preconditionFailure("\(error)") }
    }

    public func contains(_ partition: Int) -> Bool { ranges.contains { $0.contains(partition) } }

    public var description: String {
        ranges.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")
    }

    /// The selected partitions of a topic that has `count`, refusing a selection that takes none.
    package func select(from count: Int, of topic: String, in place: String) throws -> [Int] {
        let chosen = (0..<count).filter(contains)
        guard !chosen.isEmpty else {
            throw RunnelError(.invalidArgument, "topic \(topic) in \(place) has partitions 0-\(count - 1), and partitions \(self) select none of them",
                              hint: "Choose partitions between 0 and \(count - 1)")
        }
        return chosen
    }
}

/// A source's reading side, which runners call.
package protocol SourceReader: AnyObject, CustomStringConvertible {
    /// What `derived.sqlite` records as the source of a pipeline's offsets: `log`, or
    /// `kafka:<cluster id>`, followed by ` partitions 0-3` for a selection (state built from
    /// one share of the partitions is not another share's).
    var identity: String { get }
    /// The partitions of a topic to read, or nil when the topic has no records yet.
    func partitions(of topic: String) throws -> [any SourcePartition]?
    /// Folders whose changes can bring records (the log's, its topics', its partitions'); a
    /// source with none is looked at on a timer.
    func watchedFolders(topics: [String], partitions: [any SourcePartition]) -> [URL]
    /// Tells the source that a follower reads it from now on, looking again and again: a
    /// remote source may answer from what it last saw rather than ask each time. A batch run
    /// never calls it, so it reads to the end the source has when it starts.
    func beginFollowing()
}

/// One partition as runners read it.
package protocol SourcePartition: AnyObject {
    var topic: String { get }
    var partition: Int { get }
    /// The first offset still held (retention deletes older ones).
    var startOffset: Int64 { get }
    /// The offset the next record will get.
    var endOffset: Int64 { get }
    /// Ranges of offsets that are gone (lost segments); none for Kafka.
    var gaps: [LogGap] { get }
    /// The newest record's timestamp, when known, for lag in event time.
    var newestTimestamp: Int64? { get }
    /// Where the partition lives, for messages.
    var location: String { get }
    /// Picks up records appended since the last look.
    func refresh() throws
    /// Calls `body` with records from `offset` on, in order, until it returns false or the
    /// partition's end; returns the offset to read next.
    func read(from offset: Int64, _ body: (LogRecordView) throws -> Bool) throws -> Int64
}

/// The file log as a source.
final class LogSourceReader: SourceReader {
    let log: Log
    let selection: PartitionSelection?

    init(log: Log, selection: PartitionSelection?) {
        self.log = log
        self.selection = selection
    }

    var identity: String { "log" + (selection.map { " partitions \($0)" } ?? "") }

    var description: String {
        "the log in \(log.folder.path)" + (selection.map { ", partitions \($0)" } ?? "")
    }

    func partitions(of topic: String) throws -> [any SourcePartition]? {
        guard let found = try log.topic(topic) else { return nil }
        guard let selection else { return found.partitions }
        return try selection.select(from: found.partitions.count, of: topic, in: log.folder.path).map { found.partitions[$0] }
    }

    func watchedFolders(topics: [String], partitions: [any SourcePartition]) -> [URL] {
        [log.folder] + topics.map { log.folder.appendingPathComponent($0) } + partitions.compactMap { ($0 as? PartitionLog)?.folder }
    }

    func beginFollowing() {}
}

extension PartitionLog: SourcePartition {
    package var newestTimestamp: Int64? { segmentSummaries.last?.maxTimestamp }

    package var location: String { folder.path }

    package func read(from offset: Int64, _ body: (LogRecordView) throws -> Bool) throws -> Int64 {
        try forEachRecord(from: offset, body)
    }
}
