/// Big-endian writing into a growable byte array, as Kafka's index entries need (record batches
/// are written in place by `RecordBatch`).
struct ByteWriter {
    var bytes: [UInt8]

    init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    var count: Int { bytes.count }

    mutating func int32(_ value: Int32) {
        let v = UInt32(bitPattern: value)
        bytes.append(UInt8(v >> 24)); bytes.append(UInt8((v >> 16) & 0xFF))
        bytes.append(UInt8((v >> 8) & 0xFF)); bytes.append(UInt8(v & 0xFF))
    }

    mutating func int64(_ value: Int64) {
        int32(Int32(truncatingIfNeeded: value >> 32))
        int32(Int32(truncatingIfNeeded: value))
    }

    /// The size of a zig-zag varint, to compute record lengths before writing them.
    static func varintSize(_ value: Int64) -> Int {
        var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        var size = 1
        while v >= 0x80 {
            v >>= 7
            size += 1
        }
        return size
    }
}

/// Reads Kafka's big-endian integers and zig-zag varints from bytes, refusing to read past the end.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var position: Int

    init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    struct OutOfBounds: Error {
        let position: Int
    }

    var remaining: Int { bytes.count - position }

    mutating func require(_ count: Int) throws {
        guard count >= 0, remaining >= count else { throw OutOfBounds(position: position) }
    }

    mutating func int8() throws -> Int8 {
        try require(1)
        defer { position += 1 }
        return Int8(bitPattern: bytes[position])
    }

    mutating func int16() throws -> Int16 {
        try require(2)
        defer { position += 2 }
        return Int16(bitPattern: UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1]))
    }

    mutating func int32() throws -> Int32 {
        try require(4)
        defer { position += 4 }
        return Int32(bitPattern: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self).bigEndian)
    }

    mutating func int64() throws -> Int64 {
        try require(8)
        defer { position += 8 }
        return Int64(bitPattern: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self).bigEndian)
    }

    mutating func varlong() throws -> Int64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            try require(1)
            let byte = bytes[position]
            position += 1
            guard shift < 64 else { throw OutOfBounds(position: position) }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        return Int64(bitPattern: result >> 1) ^ -Int64(bitPattern: result & 1)
    }

    mutating func varint() throws -> Int32 {
        let value = try varlong()
        guard let narrow = Int32(exactly: value) else { throw OutOfBounds(position: position) }
        return narrow
    }

    /// `count` bytes in place, or nil for a length of -1 (Kafka's null).
    mutating func slice(count: Int) throws -> UnsafeRawBufferPointer? {
        if count == -1 { return nil }
        try require(count)
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
    }

    /// `count` bytes, or nil for a length of -1 (Kafka's null).
    mutating func bytes(count: Int) throws -> [UInt8]? {
        if count == -1 { return nil }
        try require(count)
        defer { position += count }
        return Array(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)]))
    }
}
