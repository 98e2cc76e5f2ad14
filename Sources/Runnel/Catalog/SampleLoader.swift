import Crypto
import Foundation
import GRDB

/// Plays a sample data file through a ``SampleDataSet``'s business operations, exactly once.
///
/// Lines are applied in batches; each batch's business rows, outbox events and the loader's
/// progress (`runnel_sample_loads.next_line`) commit in one transaction. A load that is killed
/// resumes at the first uncommitted line, and loading the same file again does nothing.
public struct SampleLoader: Sendable {
    /// What a load did.
    public struct Summary: Sendable, Hashable {
        /// The data set's name.
        public var dataset: String
        /// Lines in the file.
        public var totalLines: Int
        /// Lines applied by this call.
        public var appliedLines: Int
        /// Outbox events appended by this call.
        public var appendedEvents: Int
        /// Outbox events appended by every load of this data set into the home.
        public var totalEvents: Int
        /// True when the file had been loaded completely before this call.
        public var wasAlreadyLoaded: Bool
    }

    /// The data set whose operations the lines name.
    public let dataset: any SampleDataSet
    /// Lines per transaction.
    public var batchSize: Int

    /// Creates a loader.
    public init(dataset: any SampleDataSet, batchSize: Int = 500) {
        self.dataset = dataset
        self.batchSize = batchSize
    }

    /// Loads a file into a store, resuming an interrupted load of the same file.
    /// - Parameters:
    ///   - file: The data set file (JSON lines).
    ///   - store: The store to load into.
    ///   - progress: Called after each committed batch with lines done and lines in all.
    /// - Throws: ``RunnelError`` with code `.sampleData` when the file cannot be read, when the home
    ///   holds a different file of the same data set, or when a line fails (naming file and line;
    ///   the failing batch is rolled back and the progress before it kept).
    @discardableResult
    public func load(_ file: URL, into store: Store, progress: (Int, Int) -> Void = { _, _ in }) throws -> Summary {
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw RunnelError(.sampleData, "cannot read the sample data file \(file.path): \(error.localizedDescription)",
                              hint: "Generate one with `runnel sample generate`, or pass --file")
        }
        let checksum = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
        let total = lines.last == "" ? lines.count - 1 : lines.count
        let name = dataset.name

        let state = try store.app.write { db -> (next: Int, events: Int, finished: Bool) in
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM runnel_sample_loads WHERE dataset = ?", arguments: [name]) {
                guard row["checksum"] as String == checksum else {
                    throw RunnelError(.sampleData, "the home \(store.home.url.path) already holds a different \(name) data set (loaded from another file)",
                                      hint: "Load \(file.lastPathComponent) into a fresh home with --home DIR")
                }
                return (row["next_line"], row["events"], row["finished_at"] as Int64? != nil)
            }
            let now = Date().millisecondsSince1970
            try db.execute(sql: """
                INSERT INTO runnel_sample_loads (dataset, checksum, next_line, total_lines, events, started_at, finished_at)
                VALUES (?, ?, 0, ?, 0, ?, ?)
                """, arguments: [name, checksum, total, now, total == 0 ? now : nil])
            return (0, 0, false)
        }
        if state.finished {
            return Summary(dataset: name, totalLines: total, appliedLines: 0, appendedEvents: 0,
                           totalEvents: state.events, wasAlreadyLoaded: true)
        }

        var next = state.next
        var appended = 0
        while next < total {
            let end = min(next + batchSize, total)
            let events = try store.app.write { db -> Int in
                var events = 0
                for index in next..<end where !lines[index].isEmpty {
                    do {
                        events += try dataset.apply(lines[index], outbox: store.outbox, in: db)
                    } catch {
                        throw RunnelError(.sampleData, "\(file.lastPathComponent) line \(index + 1): \(error)",
                                          hint: "Lines before \(next + 1) are loaded; fix or regenerate the file and run `runnel sample load` again")
                    }
                }
                try db.execute(sql: """
                    UPDATE runnel_sample_loads
                    SET next_line = ?, events = events + ?, finished_at = CASE WHEN ? THEN ? ELSE NULL END
                    WHERE dataset = ?
                    """, arguments: [end, events, end == total, Date().millisecondsSince1970, name])
                return events
            }
            appended += events
            next = end
            progress(next, total)
        }
        return Summary(dataset: name, totalLines: total, appliedLines: total - state.next, appendedEvents: appended,
                       totalEvents: state.events + appended, wasAlreadyLoaded: false)
    }
}
