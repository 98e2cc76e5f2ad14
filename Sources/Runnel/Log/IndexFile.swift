import Foundation

/// One fixed-size entry of a segment index, in Kafka's big-endian layout.
protocol IndexEntry: Hashable, Sendable {
    /// Bytes per entry.
    static var size: Int { get }
    /// Reads the entry at `position`.
    init(reading bytes: UnsafeRawBufferPointer, at position: Int)
    /// Writes the entry.
    func write(into writer: inout ByteWriter)
    /// Whether the entry may follow `previous`: an index only grows, and an entry that does not
    /// (stale bytes past a truncation) ends it.
    func follows(_ previous: Self) -> Bool
}

/// A segment's sparse index file (`.index` or `.timeindex`): entries appended in increasing
/// order, loaded whole, looked up by binary search. Disposable: recovery rebuilds indexes from
/// the `.log` file, so a torn or stale tail of entries is simply dropped.
///
/// A reader that finds the file missing may not recreate it: it keeps the entries in memory
/// only (``init(inMemory:)``) and rebuilds them from the `.log` file.
///
/// Safe to share between threads: lookups may run beside the partition's writer, which
/// appends and truncates; every access to the entries takes a lock.
final class IndexFile<Entry: IndexEntry>: Sendable {
    let url: URL
    /// The file, or nil for an index held in memory only.
    let file: DurableFile?
    private let loaded = Locked<[Entry]>([])

    init(_ url: URL, writable: Bool) throws {
        self.url = url
        file = try DurableFile(url, create: writable, writable: writable)
        try load()
    }

    /// An empty index kept in memory only, for a read-only segment whose index file is missing.
    init(inMemory url: URL) {
        self.url = url
        file = nil
    }

    /// The entries, in order (a copy).
    var entries: [Entry] { loaded.withLock { $0 } }

    /// The last entry, if any.
    var last: Entry? { loaded.withLock { $0.last } }

    /// Reads entries the file holds beyond those already loaded (a reader following a writer).
    func load() throws {
        guard let file else { return }
        try file.refreshSize()
        try loaded.withLock { entries in
            let known = entries.count * Entry.size
            let usable = file.size - file.size % Entry.size
            guard usable > known else { return }
            let bytes = try file.read(at: known, count: usable - known)
            bytes.withUnsafeBytes { raw in
                var position = 0
                while position + Entry.size <= raw.count {
                    let entry = Entry(reading: raw, at: position)
                    if let last = entries.last, !entry.follows(last) { break }
                    entries.append(entry)
                    position += Entry.size
                }
            }
        }
    }

    /// Adds an entry, unless it does not follow the last one.
    func append(_ entry: Entry) throws {
        try loaded.withLock { entries in
            if let last = entries.last, !entry.follows(last) { return }
            var bytes = ByteWriter(capacity: Entry.size)
            entry.write(into: &bytes)
            try bytes.bytes.withUnsafeBytes { try file?.write($0, at: entries.count * Entry.size) }
            entries.append(entry)
        }
    }

    /// The last entry for which `isBelow` holds (a predicate true for a prefix of the entries).
    func lastEntry(where isBelow: (Entry) -> Bool) -> Entry? {
        loaded.withLock { entries in
            var low = 0, high = entries.count
            while low < high {
                let middle = (low + high) / 2
                if isBelow(entries[middle]) { low = middle + 1 } else { high = middle }
            }
            return low == 0 ? nil : entries[low - 1]
        }
    }

    /// Drops entries from the end while `isStale` holds, in memory and in the file.
    func truncate(while isStale: (Entry) -> Bool) throws {
        try loaded.withLock { entries in
            while let last = entries.last, isStale(last) { entries.removeLast() }
            try file?.truncate(to: entries.count * Entry.size)
        }
    }
}
