import Crypto
import Foundation
import GRDB

/// Plays a sample data file through a ``SampleDataSet``'s business operations, exactly once.
///
/// Lines are applied in batches; each batch's business rows, outbox events and the loader's
/// progress (`runnel_sample_loads.next_line`, and the checksum of the lines loaded so far) commit
/// in one transaction. A load that is killed or stopped by a bad line resumes at the first
/// uncommitted line, from the same file or from a corrected one whose loaded lines are
/// unchanged; loading the same file again does nothing.
package struct SampleLoader: Sendable {
    /// What a load did.
    package struct Summary: Sendable, Hashable {
        /// The data set's name.
        package var dataset: String
        /// Lines in the file.
        package var totalLines: Int
        /// Lines applied by this call.
        package var appliedLines: Int
        /// Outbox events appended by this call.
        package var appendedEvents: Int
        /// Outbox events appended by every load of this data set into the home.
        package var totalEvents: Int
        /// True when the file had been loaded completely before this call.
        package var wasAlreadyLoaded: Bool
    }

    /// The data set whose operations the lines name.
    package let dataset: any SampleDataSet
    /// Lines per transaction.
    package var batchSize: Int

    /// Creates a loader.
    package init(dataset: any SampleDataSet, batchSize: Int = 500) {
        self.dataset = dataset
        self.batchSize = batchSize
    }

    /// Loads a file into a store, resuming an interrupted load.
    ///
    /// The home records how many lines are loaded and the SHA-256 of those lines. A file whose
    /// first lines are exactly the loaded ones goes on after them (the same file after a kill, a
    /// file whose bad line was corrected, a file that extends a finished one); any other file of
    /// the same data set is refused, with nothing changed.
    /// - Parameters:
    ///   - file: The data set file (JSON lines, UTF-8).
    ///   - store: The store to load into.
    ///   - progress: Called after each committed batch with lines done and lines in all.
    /// - Throws: ``RunnelError`` with code `.sampleData` when the file cannot be read or is not
    ///   UTF-8 (naming line and byte; nothing is loaded), when its first lines differ from those
    ///   already loaded, or when a line fails (naming file and line; the failing batch is rolled
    ///   back and the progress before it kept); `.database` when `app.sqlite` fails (full disk,
    ///   damaged file), naming it.
    @discardableResult
    package func load(_ file: URL, into store: Store, progress: (Int, Int) -> Void = { _, _ in }) throws -> Summary {
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw RunnelError(.sampleData, "cannot read the sample data file \(file.path): \(error.localizedDescription)",
                              hint: "Generate one with `runnel sample generate`, or pass --file")
        }
        return try load(data, from: Origin(name: file.lastPathComponent, path: file.path), into: store, progress: progress)
    }

    /// Loads the data set's default lines: ``SampleDataSet/defaultParameters`` generated in
    /// memory, so nothing outside the program is read. Resumes and skips as ``load(_:into:progress:)``
    /// does; the same lines written to a file (`runnel sample generate`) count as the same load.
    /// - Throws: As ``load(_:into:progress:)``.
    @discardableResult
    package func loadDefault(into store: Store, progress: (Int, Int) -> Void = { _, _ in }) throws -> Summary {
        let data = try dataset.defaultData()
        return try load(data, from: Origin(name: "the built-in \(dataset.name) data set", path: "the built-in \(dataset.name) data set"),
                        into: store, progress: progress)
    }

    /// What the lines came from, as messages name it.
    private struct Origin {
        /// A short name (a file's name).
        var name: String
        /// The full name (a file's path).
        var path: String
    }

    private func load(_ data: Data, from file: Origin, into store: Store, progress: (Int, Int) -> Void) throws -> Summary {
        let text: String
        do {
            text = try StrictUTF8.decode(data)
        } catch {
            throw RunnelError(.sampleData, "the sample data file \(file.path) is not valid UTF-8: \(error.description); nothing was loaded from it",
                              hint: "Correct line \(error.line) (or regenerate the file with `runnel sample generate`) and run the same `runnel sample load` again")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let total = lines.last == "" ? lines.count - 1 : lines.count
        let name = dataset.name
        let path = store.app.path

        let state = try RunnelError.naming(path, "starting to load \(file.name)") {
            try store.app.write { db -> (next: Int, events: Int, alreadyLoaded: Bool) in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM runnel_sample_loads WHERE dataset = ?", arguments: [name]) else {
                    let now = Date().millisecondsSince1970
                    try db.execute(sql: """
                        INSERT INTO runnel_sample_loads (dataset, checksum, next_line, total_lines, events, started_at, finished_at)
                        VALUES (?, ?, 0, ?, 0, ?, ?)
                        """, arguments: [name, Self.checksum(of: lines[0..<0]), total, now, total == 0 ? now : nil])
                    return (0, 0, total == 0)
                }
                let loaded: Int = row["next_line"]
                guard loaded <= total, row["checksum"] as String == Self.checksum(of: lines[0..<loaded]) else {
                    throw RunnelError(.sampleData, "the home \(store.home.url.path) already holds \(loaded) lines of a different \(name) data set: the first \(loaded) lines of \(file.path) are not the ones loaded",
                                      hint: "Load \(file.name) into a fresh home with --home DIR, or go on with the file those lines came from")
                }
                if loaded < total || row["total_lines"] as Int != total {
                    // The same lines so far, maybe followed by corrected or further ones.
                    try db.execute(sql: "UPDATE runnel_sample_loads SET total_lines = ?, finished_at = NULL WHERE dataset = ?",
                                   arguments: [total, name])
                }
                return (loaded, row["events"], loaded == total && row["finished_at"] as Int64? != nil)
            }
        }
        if state.alreadyLoaded {
            return Summary(dataset: name, totalLines: total, appliedLines: 0, appendedEvents: 0,
                           totalEvents: state.events, wasAlreadyLoaded: true)
        }

        var next = state.next
        var appended = 0
        var loadedLines = Self.hasher(of: lines[0..<next])
        repeat {
            let end = min(next + batchSize, total)
            var afterBatch = loadedLines
            for line in lines[next..<end] { Self.add(line, to: &afterBatch) }
            let checksum = Self.hex(afterBatch.finalize())
            let start = next
            let events = try RunnelError.naming(path, "loading lines \(start + 1)–\(end) of \(file.name)") {
                try store.app.write { db -> Int in
                    // Compare-and-set on the progress row, in this (immediate) write transaction:
                    // when another `sample load` of the same home applied these lines first, this
                    // one stops instead of applying them twice.
                    let stored = try Int.fetchOne(db, sql: "SELECT next_line FROM runnel_sample_loads WHERE dataset = ?", arguments: [name])
                    guard stored == start else {
                        throw RunnelError(.concurrentRunner,
                                          "another `runnel sample load` of the \(name) data set into \(store.home.url.path) moved its progress to line \(stored.map(String.init) ?? "none") while this one was about to load lines \(start + 1)–\(end); this one stopped, so nothing was applied twice",
                                          hint: "Run one `runnel sample load` per home at a time; run it again once the other has finished and it goes on from where that one stopped")
                    }
                    var events = 0
                    for index in start..<end where !lines[index].isEmpty {
                        do {
                            events += try dataset.apply(lines[index], outbox: store.outbox, in: db)
                        } catch let error as DatabaseError where error.isFailureOfTheDatabase {
                            throw error
                        } catch {
                            throw Self.badLine(index, of: file, error: error, loaded: start)
                        }
                    }
                    try db.execute(sql: """
                        UPDATE runnel_sample_loads
                        SET next_line = ?, checksum = ?, events = events + ?, finished_at = CASE WHEN ? THEN ? ELSE NULL END
                        WHERE dataset = ?
                        """, arguments: [end, checksum, events, end == total, Date().millisecondsSince1970, name])
                    return events
                }
            }
            appended += events
            loadedLines = afterBatch
            next = end
            progress(next, total)
        } while next < total
        return Summary(dataset: name, totalLines: total, appliedLines: total - state.next, appendedEvents: appended,
                       totalEvents: state.events + appended, wasAlreadyLoaded: false)
    }

    /// The error for a line the data set could not apply, with advice that works when followed:
    /// the loaded lines are kept, so the corrected file resumes after them.
    private static func badLine(_ index: Int, of file: Origin, error: any Error, loaded: Int) -> RunnelError {
        let kept = loaded == 0
            ? "Nothing was loaded"
            : "Lines 1–\(loaded) are loaded and kept (the batch from line \(loaded + 1) was rolled back)"
        let unchanged = loaded == 0 ? "" : ", keeping lines 1–\(loaded) as they are,"
        return RunnelError(.sampleData, "\(file.name) line \(index + 1): \(error)",
                           hint: "\(kept). Correct line \(index + 1) of \(file.path)\(unchanged) and run the same `runnel sample load` again: it goes on from line \(loaded + 1)")
    }

    /// SHA-256 over lines, each with its newline: for a whole file ending in a newline, the
    /// file's own SHA-256.
    static func checksum(of lines: ArraySlice<String>) -> String {
        hex(hasher(of: lines).finalize())
    }

    private static func hasher(of lines: ArraySlice<String>) -> SHA256 {
        var hasher = SHA256()
        for line in lines { add(line, to: &hasher) }
        return hasher
    }

    private static func add(_ line: String, to hasher: inout SHA256) {
        hasher.update(data: Data(line.utf8))
        hasher.update(data: Data([UInt8(ascii: "\n")]))
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
