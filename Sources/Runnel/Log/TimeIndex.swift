import Foundation

/// A segment's time index (`NNNN.timeindex`), in Kafka's layout: 12-byte entries of an 8-byte
/// timestamp and the 4-byte relative offset of the record holding the largest timestamp so far.
/// Timestamps only grow from entry to entry. Disposable like the offset index.
final class TimeIndex: @unchecked Sendable {
    // @unchecked: mutated only by the partition's single writer under PartitionLog's lock.
    struct Entry: Hashable {
        var timestamp: Int64
        var relativeOffset: Int32
    }

    static let entrySize = 12
    let file: LogFile
    private(set) var entries: [Entry] = []

    init(_ url: URL, writable: Bool) throws {
        file = try LogFile(url, create: writable, writable: writable)
        try load()
    }

    /// Reads entries the file holds beyond those already loaded (a reader following a writer).
    func load() throws {
        try file.refreshSize()
        let known = entries.count * Self.entrySize
        let usable = file.size - file.size % Self.entrySize
        guard usable > known else { return }
        let bytes = try file.read(at: known, count: usable - known)
        bytes.withUnsafeBytes { raw in
            var position = 0
            while position + Self.entrySize <= raw.count {
                let timestamp = Int64(bitPattern: raw.loadUnaligned(fromByteOffset: position, as: UInt64.self).bigEndian)
                let offset = Int32(bitPattern: raw.loadUnaligned(fromByteOffset: position + 8, as: UInt32.self).bigEndian)
                if let last = entries.last, timestamp <= last.timestamp || offset < last.relativeOffset { break }
                entries.append(Entry(timestamp: timestamp, relativeOffset: offset))
                position += Self.entrySize
            }
        }
    }

    /// Adds an entry when its timestamp is larger than the last one's.
    func append(timestamp: Int64, relativeOffset: Int32) throws {
        if let last = entries.last, timestamp <= last.timestamp || relativeOffset < last.relativeOffset { return }
        var bytes = ByteWriter(capacity: Self.entrySize)
        bytes.int64(timestamp)
        bytes.int32(relativeOffset)
        try bytes.bytes.withUnsafeBytes { try file.write($0, at: entries.count * Self.entrySize) }
        entries.append(Entry(timestamp: timestamp, relativeOffset: relativeOffset))
    }

    /// The relative offset to start scanning from for records at or after `timestamp`: that of
    /// the last entry whose timestamp is below it (every earlier record is older), or 0.
    func relativeOffset(before timestamp: Int64) -> Int32 {
        var low = 0, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].timestamp < timestamp { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? 0 : entries[low - 1].relativeOffset
    }

    /// Drops entries at or past a relative offset.
    func truncate(toRelativeOffset offset: Int32) throws {
        while let last = entries.last, last.relativeOffset >= offset { entries.removeLast() }
        try file.truncate(to: entries.count * Self.entrySize)
    }
}
