/// A segment's time index (`NNNN.timeindex`), in Kafka's layout: 12-byte entries of an 8-byte
/// timestamp and the 4-byte relative offset of the record holding the largest timestamp so far.
/// Timestamps only grow from entry to entry.
typealias TimeIndex = IndexFile<TimeIndexEntry>

struct TimeIndexEntry: IndexEntry {
    static let size = 12
    var timestamp: Int64
    var relativeOffset: Int32

    init(timestamp: Int64, relativeOffset: Int32) {
        self.timestamp = timestamp
        self.relativeOffset = relativeOffset
    }

    init(reading bytes: UnsafeRawBufferPointer, at position: Int) {
        timestamp = Int64(bitPattern: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self).bigEndian)
        relativeOffset = Int32(bitPattern: bytes.loadUnaligned(fromByteOffset: position + 8, as: UInt32.self).bigEndian)
    }

    func write(into writer: inout ByteWriter) {
        writer.int64(timestamp)
        writer.int32(relativeOffset)
    }

    /// The timestamp grows and the offset does not go back.
    func follows(_ previous: TimeIndexEntry) -> Bool {
        timestamp > previous.timestamp && relativeOffset >= previous.relativeOffset
    }
}

extension IndexFile where Entry == TimeIndexEntry {
    /// Adds an entry when its timestamp is larger than the last one's.
    func append(timestamp: Int64, relativeOffset: Int32) throws {
        try append(TimeIndexEntry(timestamp: timestamp, relativeOffset: relativeOffset))
    }

    /// The relative offset to start scanning from for records at or after `timestamp`: that of
    /// the last entry whose timestamp is below it (every earlier record is older), or 0.
    func relativeOffset(before timestamp: Int64) -> Int32 {
        lastEntry { $0.timestamp < timestamp }?.relativeOffset ?? 0
    }
}
