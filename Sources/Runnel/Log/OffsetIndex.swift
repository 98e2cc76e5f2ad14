import Foundation

/// A segment's sparse offset index (`NNNN.index`), in Kafka's layout: 8-byte entries of a 4-byte
/// offset relative to the segment's base offset and the 4-byte file position of a batch whose
/// last offset it is. Disposable: recovery rebuilds it from the `.log` file.
final class OffsetIndex: @unchecked Sendable {
    // @unchecked: mutated only by the partition's single writer under PartitionLog's lock.
    struct Entry: Hashable {
        var relativeOffset: Int32
        var position: Int32
    }

    static let entrySize = 8
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
        entries.reserveCapacity(usable / Self.entrySize)
        bytes.withUnsafeBytes { raw in
            var position = 0
            while position + Self.entrySize <= raw.count {
                let offset = Int32(bitPattern: raw.loadUnaligned(fromByteOffset: position, as: UInt32.self).bigEndian)
                let filePosition = Int32(bitPattern: raw.loadUnaligned(fromByteOffset: position + 4, as: UInt32.self).bigEndian)
                // A stale entry past a truncation would point nowhere: keep entries increasing.
                if let last = entries.last, offset <= last.relativeOffset || filePosition <= last.position { break }
                entries.append(Entry(relativeOffset: offset, position: filePosition))
                position += Self.entrySize
            }
        }
    }

    /// Adds an entry; entries must grow in both offset and position.
    func append(relativeOffset: Int32, position: Int32) throws {
        if let last = entries.last, relativeOffset <= last.relativeOffset || position <= last.position { return }
        var bytes = ByteWriter(capacity: Self.entrySize)
        bytes.int32(relativeOffset)
        bytes.int32(position)
        try bytes.bytes.withUnsafeBytes { try file.write($0, at: entries.count * Self.entrySize) }
        entries.append(Entry(relativeOffset: relativeOffset, position: position))
    }

    /// The file position to start scanning from for `relativeOffset`: the position of the last
    /// entry whose offset is below it, or 0.
    func position(before relativeOffset: Int32) -> Int {
        var low = 0, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].relativeOffset < relativeOffset { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? 0 : Int(entries[low - 1].position)
    }

    /// The last entry's position, or 0: where to start reading the end of the segment.
    var lastPosition: Int { Int(entries.last?.position ?? 0) }

    /// Drops entries at or past a file position (after the log is truncated there).
    func truncate(toPosition position: Int) throws {
        while let last = entries.last, Int(last.position) >= position { entries.removeLast() }
        try file.truncate(to: entries.count * Self.entrySize)
    }
}
