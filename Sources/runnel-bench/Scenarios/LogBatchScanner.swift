import Foundation
import Runnel

/// A hand-written reader of segment files, with none of Runnel's log code: what a competent
/// user would write to read Kafka record batches v2 from the files, and so the baseline of
/// `log-read` and `log-recovery`.
///
/// It reads a file with `pread` into one reused buffer (1 MiB, grown when a batch is larger),
/// moves a batch cut at the buffer's end to its front and reads on, and hands out each whole
/// batch in place after checking its length, magic byte and CRC-32C with the very function
/// the log uses (``CRC32C/checksum(_:)``), so a checksum that is fast or slow is so on both
/// sides. ``walkRecords(_:_:)`` then walks a batch's records in place, as
/// ``PartitionLog/forEachRecord(from:maxBytes:_:)`` does: lengths, deltas, key, value and the
/// headers' bytes, without copying or allocating.
///
/// ```swift
/// let scanner = LogBatchScanner()
/// try scanner.start(segmentURL)
/// while let batch = try scanner.next() {
///     try LogBatchScanner.walkRecords(batch) { record in count += 1 }
/// }
/// ```
final class LogBatchScanner {
    /// The bytes read, `filled` of them, starting at file position `bufferStart`.
    private var buffer: UnsafeMutableRawBufferPointer
    private var filled = 0
    private var bufferStart = 0
    /// Where the next batch starts, and where the scan stops.
    private var cursor = 0
    private var end = 0
    private var file: PlainFile?

    /// Kafka's fixed batch header: 61 bytes, the first 12 (base offset and length) outside the
    /// length, the CRC covering everything from byte 21 on.
    private static let headerSize = 61
    private static let logOverhead = 12
    private static let crcStart = 21

    /// Makes a scanner reading `chunkBytes` at a time (more when a batch is larger).
    init(chunkBytes: Int = 1 << 20) {
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 16)
    }

    deinit {
        buffer.deallocate()
    }

    /// Starts on a file, from byte `position` (a batch boundary) to `end` (its size when nil).
    func start(_ url: URL, from position: Int = 0, to end: Int? = nil) throws {
        file = try PlainFile.openForReading(url)
        self.end = try end ?? PlainFile.size(of: url)
        cursor = position
        bufferStart = position
        filled = 0
    }

    /// Whether every batch up to the end has been handed out.
    var atEnd: Bool { cursor >= end }

    /// The next whole batch, checked, valid until the next call; nil at the end.
    /// - Throws: ``BenchmarkError`` for a batch that is cut short, has an impossible length or
    ///   another magic byte, or fails its CRC-32C.
    func next() throws -> UnsafeRawBufferPointer? {
        guard cursor < end else { return nil }
        try hold(Self.logOverhead)
        let length = Int(Int32(bigEndian: buffer.loadUnaligned(fromByteOffset: cursor - bufferStart + 8, as: Int32.self)))
        let size = length + Self.logOverhead
        guard size >= Self.headerSize, cursor + size <= end else {
            throw BenchmarkError("\(file?.url.path ?? "?") at byte \(cursor): a batch of \(size) bytes does not fit before byte \(end)")
        }
        try hold(size)
        let batch = UnsafeRawBufferPointer(rebasing: buffer[(cursor - bufferStart)..<(cursor - bufferStart + size)])
        guard batch[16] == 2 else { throw BenchmarkError("\(file?.url.path ?? "?") at byte \(cursor): magic byte \(batch[16]), not 2") }
        let stored = UInt32(bigEndian: batch.loadUnaligned(fromByteOffset: 17, as: UInt32.self))
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: batch[Self.crcStart...])) == stored else {
            throw BenchmarkError("\(file?.url.path ?? "?") at byte \(cursor): CRC-32C mismatch")
        }
        cursor += size
        return batch
    }

    /// Makes the buffer hold `count` bytes from the cursor on: keeps the unread bytes (moved to
    /// the front), grows the buffer when it is too small, and reads as much as fits.
    private func hold(_ count: Int) throws {
        let offset = cursor - bufferStart
        guard offset + count > filled else { return }
        let kept = filled - offset
        if count > buffer.count {
            let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
            if kept > 0 { larger.baseAddress!.copyMemory(from: buffer.baseAddress! + offset, byteCount: kept) }
            buffer.deallocate()
            buffer = larger
        } else if kept > 0, offset > 0 {
            memmove(buffer.baseAddress!, buffer.baseAddress! + offset, kept)
        }
        bufferStart = cursor
        filled = kept
        guard let file else { throw BenchmarkError("a scanner read before it was started") }
        while filled < count {
            let wanted = min(buffer.count - filled, end - (bufferStart + filled))
            let got = try file.fill(UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<(filled + wanted)]), from: bufferStart + filled)
            guard got > 0 else { throw BenchmarkError("\(file.url.path) ends at byte \(bufferStart + filled), inside a batch") }
            filled += got
        }
    }

    /// One record of a batch, in place: what ``LogRecordView`` gives Runnel's consumers.
    struct Record {
        var offset: Int64
        var timestamp: Int64
        /// The key and value, nil for a null one.
        var key: UnsafeRawBufferPointer?
        var value: UnsafeRawBufferPointer?
        /// The encoded headers (a count, then each header), not walked.
        var headers: UnsafeRawBufferPointer
    }

    /// A field that runs past its record or batch.
    private struct Malformed: Error {}

    /// Calls `body` with each record of a checked batch, in place, checking that every field
    /// lies within its record and the records fill the batch.
    static func walkRecords(_ batch: UnsafeRawBufferPointer, _ body: (Record) throws -> Void) throws {
        let baseOffset = Int64(bigEndian: batch.loadUnaligned(fromByteOffset: 0, as: Int64.self))
        let firstTimestamp = Int64(bigEndian: batch.loadUnaligned(fromByteOffset: 27, as: Int64.self))
        let count = Int32(bigEndian: batch.loadUnaligned(fromByteOffset: 57, as: Int32.self))
        var position = headerSize
        do {
            for _ in 0..<max(count, 0) {
                let length = Int(try varint(batch, &position, batch.count))
                let recordEnd = position + length
                guard length > 0, recordEnd <= batch.count else { throw Malformed() }
                position += 1                                   // attributes
                let timestampDelta = try varint(batch, &position, recordEnd)
                let offsetDelta = try varint(batch, &position, recordEnd)
                let key = try field(batch, &position, recordEnd)
                let value = try field(batch, &position, recordEnd)
                guard position <= recordEnd else { throw Malformed() }
                try body(Record(offset: baseOffset + offsetDelta, timestamp: firstTimestamp + timestampDelta, key: key, value: value,
                                headers: UnsafeRawBufferPointer(rebasing: batch[position..<recordEnd])))
                position = recordEnd
            }
        } catch is Malformed {
            throw BenchmarkError("a batch at offset \(baseOffset): a record runs past its end")
        }
        guard position == batch.count else {
            throw BenchmarkError("a batch at offset \(baseOffset): \(batch.count - position) bytes left after its \(count) records")
        }
    }

    /// A zig-zag varint (Kafka's varint and varlong share it) read at `position`, before `limit`.
    @inline(__always)
    private static func varint(_ bytes: UnsafeRawBufferPointer, _ position: inout Int, _ limit: Int) throws -> Int64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < limit, shift < 64 else { throw Malformed() }
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        return Int64(bitPattern: result >> 1) ^ -Int64(bitPattern: result & 1)
    }

    /// A length-prefixed field in place, nil for a length of -1.
    @inline(__always)
    private static func field(_ bytes: UnsafeRawBufferPointer, _ position: inout Int, _ limit: Int) throws -> UnsafeRawBufferPointer? {
        let length = Int(try varint(bytes, &position, limit))
        if length == -1 { return nil }
        guard length >= 0, position + length <= limit else { throw Malformed() }
        defer { position += length }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)])
    }
}
