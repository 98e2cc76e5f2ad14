/// A segment's sparse offset index (`NNNN.index`), in Kafka's layout: 8-byte entries of a 4-byte
/// offset relative to the segment's base offset and the 4-byte file position of a batch whose
/// last offset it is.
typealias OffsetIndex = IndexFile<OffsetIndexEntry>

struct OffsetIndexEntry: IndexEntry {
    static let size = 8
    var relativeOffset: Int32
    var position: Int32

    init(relativeOffset: Int32, position: Int32) {
        self.relativeOffset = relativeOffset
        self.position = position
    }

    init(reading bytes: UnsafeRawBufferPointer, at position: Int) {
        relativeOffset = Int32(bitPattern: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self).bigEndian)
        self.position = Int32(bitPattern: bytes.loadUnaligned(fromByteOffset: position + 4, as: UInt32.self).bigEndian)
    }

    func write(into writer: inout ByteWriter) {
        writer.int32(relativeOffset)
        writer.int32(position)
    }

    /// Both the offset and the position grow.
    func follows(_ previous: OffsetIndexEntry) -> Bool {
        relativeOffset > previous.relativeOffset && position > previous.position
    }
}

extension IndexFile where Entry == OffsetIndexEntry {
    /// Adds an entry; entries must grow in both offset and position.
    func append(relativeOffset: Int32, position: Int32) throws {
        try append(OffsetIndexEntry(relativeOffset: relativeOffset, position: position))
    }

    /// The file position to start scanning from for `relativeOffset`: the position of the last
    /// entry whose offset is below it, or 0.
    func position(before relativeOffset: Int32) -> Int {
        Int(lastEntry { $0.relativeOffset < relativeOffset }?.position ?? 0)
    }

    /// The last entry's position, or 0: where to start reading the end of the segment.
    var lastPosition: Int { Int(last?.position ?? 0) }

    /// Drops entries at or past a file position (after the log is truncated there).
    func truncate(toPosition position: Int) throws {
        try truncate { Int($0.position) >= position }
    }
}
