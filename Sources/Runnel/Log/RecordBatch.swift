/// Kafka's RecordBatch v2 (magic 2), the unit of every `.log` segment file: a 61-byte header
/// followed by records with zig-zag varint fields. The layout, field by field, is in
/// `docs/log-format.md`. Runnel writes uncompressed batches with producer id -1, timestamps of
/// type `CreateTime`, and a CRC-32C over everything from `attributes` to the end.
package struct RecordBatchHeader: Sendable, Hashable {
    package var baseOffset: Int64
    /// Bytes after this field: the batch's total size is `batchLength + 12`.
    package var batchLength: Int32
    package var partitionLeaderEpoch: Int32
    package var magic: Int8
    package var crc: UInt32
    package var attributes: Int16
    package var lastOffsetDelta: Int32
    package var firstTimestamp: Int64
    package var maxTimestamp: Int64
    package var producerId: Int64
    package var producerEpoch: Int16
    package var baseSequence: Int32
    package var recordCount: Int32

    /// The last offset in the batch.
    package var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }
    /// The batch's size on disk.
    package var size: Int { Int(batchLength) + RecordBatch.logOverhead }
}

/// Encoding and decoding of RecordBatch v2.
package enum RecordBatch {
    /// Bytes before `batchLength`'s coverage starts: base offset (8) and the length itself (4).
    package static let logOverhead = 12
    /// The fixed header size.
    package static let headerSize = 61
    /// Where the CRC-covered bytes start (the attributes field).
    static let crcStart = 21
    /// The magic byte of RecordBatch v2.
    package static let magic: Int8 = 2

    /// Why bytes are not a valid batch.
    package enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        /// Fewer bytes than the header or the batch length says (a torn write at the end of a file).
        case truncated(needed: Int, available: Int)
        /// A length that cannot be a batch.
        case badLength(Int32)
        /// Not magic 2.
        case badMagic(Int8)
        /// The stored CRC-32C does not match the bytes.
        case checksumMismatch(stored: UInt32, computed: UInt32)
        /// The records inside do not parse.
        case badRecords(String)

        package var description: String {
            switch self {
            case .truncated(let needed, let available): "batch cut short: \(available) of \(needed) bytes present"
            case .badLength(let length): "impossible batch length \(length)"
            case .badMagic(let magic): "magic byte \(magic), expected 2 (RecordBatch v2)"
            case .checksumMismatch(let stored, let computed):
                "CRC-32C mismatch: stored \(String(stored, radix: 16)), computed \(String(computed, radix: 16))"
            case .badRecords(let reason): "records do not parse: \(reason)"
            }
        }

        /// Whether the problem is a batch that simply ends early, as a torn tail after a crash does.
        package var isTruncation: Bool {
            if case .truncated = self { return true }
            return false
        }
    }

    // MARK: - Encoding

    /// The bytes of one batch holding `records` with offsets from `baseOffset` on, one apart; or,
    /// with `keepingOffsets`, at their own (increasing) offsets, as compaction leaves holes.
    /// - Parameter lastOffsetDelta: With `keepingOffsets`, the batch's last offset delta when it
    ///   is past its last record's (compaction keeps the original batch's, as Kafka's cleaner does).
    /// - Precondition: `records` is not empty.
    package static func encode(_ records: some Collection<LogRecord>, baseOffset: Int64, keepingOffsets: Bool = false,
                               lastOffsetDelta: Int32? = nil) -> [UInt8] {
        precondition(!records.isEmpty, "a batch holds at least one record")
        let firstTimestamp = records.first!.timestamp
        var maxTimestamp = Int64.min
        for record in records where record.timestamp > maxTimestamp { maxTimestamp = record.timestamp }
        let lastDelta = keepingOffsets ? max(lastOffsetDelta ?? 0, Int32(records.reversed().first!.offset - baseOffset)) : Int32(records.count - 1)

        // Sizes first, then one buffer of exactly the batch's size filled by a pointer walk:
        // appending byte by byte costs more than everything else in encoding a small record,
        // and a buffer of the records alone would be copied once more behind the header.
        var bodies: [Int] = []
        bodies.reserveCapacity(records.count)
        var total = headerSize
        for (delta, record) in records.enumerated() {
            let offsetDelta = keepingOffsets ? Int64(record.offset - baseOffset) : Int64(delta)
            let body = bodySize(record, timestampDelta: record.timestamp - firstTimestamp, offsetDelta: offsetDelta)
            bodies.append(body)
            total += ByteWriter.varintSize(Int64(body)) + body
        }
        return batch(size: total, baseOffset: baseOffset, lastOffsetDelta: lastDelta, firstTimestamp: firstTimestamp,
                     maxTimestamp: maxTimestamp, recordCount: records.count) { cursor in
            for (delta, record) in records.enumerated() {
                let offsetDelta = keepingOffsets ? Int64(record.offset - baseOffset) : Int64(delta)
                cursor.varlong(Int64(bodies[delta]))
                cursor.byte(0)                         // record attributes (unused)
                cursor.varlong(record.timestamp - firstTimestamp)
                cursor.varlong(offsetDelta)
                cursor.field(record.key)
                cursor.field(record.value)
                cursor.varlong(Int64(record.headers.count))
                for header in record.headers {
                    var key = header.key
                    key.withUTF8 { utf8 in
                        cursor.varlong(Int64(utf8.count))
                        cursor.copy(UnsafeRawBufferPointer(utf8))
                    }
                    cursor.field(header.value)
                }
            }
        }
    }

    /// The bytes of a batch with no records that covers the offsets `baseOffset` to
    /// `baseOffset + lastOffsetDelta`, as compaction leaves in place of a segment's last batch
    /// when none of its records stay: the segment keeps its offset range. Kafka's cleaner writes
    /// the same (`DefaultRecordBatch.writeEmptyHeader`): first timestamp -1, the original
    /// batch's max timestamp, record count 0.
    static func encodeEmpty(baseOffset: Int64, lastOffsetDelta: Int32, maxTimestamp: Int64) -> [UInt8] {
        batch(size: headerSize, baseOffset: baseOffset, lastOffsetDelta: lastOffsetDelta, firstTimestamp: -1,
              maxTimestamp: maxTimestamp, recordCount: 0) { _ in }
    }

    /// A batch of `size` bytes: the header, then what `records` writes (exactly the rest), then
    /// the CRC over both.
    private static func batch(size: Int, baseOffset: Int64, lastOffsetDelta: Int32, firstTimestamp: Int64, maxTimestamp: Int64,
                              recordCount: Int, records: (inout RawCursor) -> Void) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            let start = UnsafeMutableRawPointer(buffer.baseAddress!)
            var cursor = RawCursor(start)
            cursor.int64(baseOffset)
            cursor.int32(Int32(size - logOverhead))    // batch length
            cursor.int32(0)                            // partition leader epoch
            cursor.byte(UInt8(bitPattern: magic))
            cursor.int32(0)                            // CRC, set below
            cursor.int16(0)                            // attributes: no compression, CreateTime
            cursor.int32(lastOffsetDelta)
            cursor.int64(firstTimestamp)
            cursor.int64(maxTimestamp)
            cursor.int64(-1)                           // producer id
            cursor.int16(-1)                           // producer epoch
            cursor.int32(-1)                           // base sequence
            cursor.int32(Int32(recordCount))
            records(&cursor)
            precondition(cursor.pointer == start + size, "record sizes and bytes written disagree")
            var crcField = RawCursor(start + 17)
            crcField.int32(Int32(bitPattern: CRC32C.checksum(UnsafeRawBufferPointer(start: start + crcStart, count: size - crcStart))))
            initialized = size
        }
    }

    /// The size of a record after its length varint.
    private static func bodySize(_ record: LogRecord, timestampDelta: Int64, offsetDelta: Int64) -> Int {
        var body = 1 + ByteWriter.varintSize(timestampDelta) + ByteWriter.varintSize(offsetDelta)
        body += fieldSize(record.key?.count)
        body += fieldSize(record.value?.count)
        body += ByteWriter.varintSize(Int64(record.headers.count))
        for header in record.headers {
            body += fieldSize(header.key.utf8.count) + fieldSize(header.value?.count)
        }
        return body
    }

    private static func fieldSize(_ count: Int?) -> Int {
        guard let count else { return ByteWriter.varintSize(-1) }
        return ByteWriter.varintSize(Int64(count)) + count
    }

    /// Writes through a raw pointer into space already reserved and sized exactly.
    private struct RawCursor {
        var pointer: UnsafeMutableRawPointer

        init(_ pointer: UnsafeMutableRawPointer) {
            self.pointer = pointer
        }

        mutating func byte(_ value: UInt8) {
            pointer.storeBytes(of: value, as: UInt8.self)
            pointer += 1
        }

        /// Big-endian fixed-width integers, for the batch header.
        mutating func int16(_ value: Int16) {
            pointer.storeBytes(of: UInt16(bitPattern: value).bigEndian, as: UInt16.self)
            pointer += 2
        }

        mutating func int32(_ value: Int32) {
            pointer.storeBytes(of: UInt32(bitPattern: value).bigEndian, as: UInt32.self)
            pointer += 4
        }

        mutating func int64(_ value: Int64) {
            pointer.storeBytes(of: UInt64(bitPattern: value).bigEndian, as: UInt64.self)
            pointer += 8
        }

        /// A zig-zag varint (Kafka's varint and varlong share the encoding).
        mutating func varlong(_ value: Int64) {
            var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
            while v >= 0x80 {
                byte(UInt8(v & 0x7F) | 0x80)
                v >>= 7
            }
            byte(UInt8(v))
        }

        mutating func copy(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            pointer.copyMemory(from: base, byteCount: bytes.count)
            pointer += bytes.count
        }

        /// A length-prefixed field, -1 for null.
        mutating func field(_ bytes: [UInt8]?) {
            guard let bytes else {
                varlong(-1)
                return
            }
            varlong(Int64(bytes.count))
            bytes.withUnsafeBytes { copy($0) }
        }
    }

    // MARK: - Decoding

    /// Reads the header of the batch starting at `position`, checking its length and magic but
    /// not its CRC (see ``verify(_:at:header:)``).
    /// - Throws: ``Problem``.
    /// - Parameter inFile: The bytes the file holds from `position` on, when `bytes` holds only
    ///   the header: the batch must fit in those rather than in `bytes`.
    package static func header(_ bytes: UnsafeRawBufferPointer, at position: Int, inFile: Int? = nil) throws(Problem) -> RecordBatchHeader {
        let available = inFile ?? (bytes.count - position)
        guard available >= logOverhead, bytes.count - position >= logOverhead else {
            throw .truncated(needed: logOverhead, available: min(available, bytes.count - position))
        }
        var reader = ByteReader(bytes, position: position)
        do {
            let baseOffset = try reader.int64()
            let length = try reader.int32()
            guard length >= headerSize - logOverhead else { throw Problem.badLength(length) }
            guard available >= Int(length) + logOverhead else {
                throw Problem.truncated(needed: Int(length) + logOverhead, available: available)
            }
            let header = RecordBatchHeader(
                baseOffset: baseOffset, batchLength: length, partitionLeaderEpoch: try reader.int32(), magic: try reader.int8(),
                crc: UInt32(bitPattern: try reader.int32()), attributes: try reader.int16(), lastOffsetDelta: try reader.int32(),
                firstTimestamp: try reader.int64(), maxTimestamp: try reader.int64(), producerId: try reader.int64(),
                producerEpoch: try reader.int16(), baseSequence: try reader.int32(), recordCount: try reader.int32())
            guard header.magic == magic else { throw Problem.badMagic(header.magic) }
            return header
        } catch let problem as Problem {
            throw problem
        } catch {
            throw .truncated(needed: headerSize, available: available)
        }
    }

    /// Checks a batch's CRC-32C.
    package static func verify(_ bytes: UnsafeRawBufferPointer, at position: Int, header: RecordBatchHeader) throws(Problem) {
        let covered = UnsafeRawBufferPointer(rebasing: bytes[(position + crcStart)..<(position + header.size)])
        let computed = CRC32C.checksum(covered)
        guard computed == header.crc else { throw .checksumMismatch(stored: header.crc, computed: computed) }
    }

    /// Calls `body` with each record of a batch whose header has been read, in place, until it
    /// returns false.
    package static func forEachRecord(
        _ bytes: UnsafeRawBufferPointer, at position: Int, header: RecordBatchHeader, _ body: (LogRecordView) throws -> Bool
    ) throws -> Bool {
        let end = position + header.size
        var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[..<end]), position: position + headerSize)
        for _ in 0..<header.recordCount {
            let view: LogRecordView
            do {
                let length = Int(try reader.varint())
                let recordEnd = reader.position + length
                try reader.require(length)
                _ = try reader.int8()
                let timestampDelta = try reader.varlong()
                let offsetDelta = try reader.varint()
                let key = try reader.slice(count: Int(try reader.varint()))
                let value = try reader.slice(count: Int(try reader.varint()))
                guard recordEnd >= reader.position else { throw Problem.badRecords("record length \(length) does not match its fields") }
                let headers = UnsafeRawBufferPointer(rebasing: reader.bytes[reader.position..<recordEnd])
                reader.position = recordEnd
                view = LogRecordView(offset: header.baseOffset + Int64(offsetDelta), timestamp: header.firstTimestamp + timestampDelta,
                                     key: key, value: value, headerBytes: headers)
            } catch let problem as Problem {
                throw problem
            } catch {
                throw Problem.badRecords("a field runs past the end of the batch")
            }
            guard try body(view) else { return false }
        }
        guard reader.position == end else { throw Problem.badRecords("\(end - reader.position) bytes left after the last record") }
        return true
    }

    /// Checks every field of every record of a batch whose header has been read, as
    /// ``records(_:at:header:)`` does, without copying any of them out.
    package static func check(_ bytes: UnsafeRawBufferPointer, at position: Int, header: RecordBatchHeader) throws(Problem) {
        try everyRecord(bytes, at: position, header: header) { view throws(Problem) in try view.checkHeaders() }
    }

    /// Decodes the records of a batch whose header has been read, checking every field.
    package static func records(_ bytes: UnsafeRawBufferPointer, at position: Int, header: RecordBatchHeader) throws(Problem) -> [LogRecord] {
        var records: [LogRecord] = []
        records.reserveCapacity(Int(max(header.recordCount, 0)))
        try everyRecord(bytes, at: position, header: header) { view throws(Problem) in records.append(try view.ownedRecord()) }
        return records
    }

    /// Calls `body` with every record of a batch, failing with a ``Problem`` for whatever does not parse.
    private static func everyRecord(_ bytes: UnsafeRawBufferPointer, at position: Int, header: RecordBatchHeader,
                                    _ body: (LogRecordView) throws(Problem) -> Void) throws(Problem) {
        do {
            _ = try forEachRecord(bytes, at: position, header: header) { view in
                try body(view)
                return true
            }
        } catch let problem as Problem {
            throw problem
        } catch {
            throw .badRecords("\(error)")
        }
    }
}
