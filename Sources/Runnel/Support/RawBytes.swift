/// Byte comparisons in place, for the per-record and per-field paths.
enum RawBytes {
    /// Whether `lhs` and `rhs` hold the same bytes, compared eight at a time: the strings
    /// compared here (header names and values, JSON keys) are short enough that calling
    /// `memcmp`, or the generic `elementsEqual`, costs more than the comparison.
    @inline(__always)
    static func equal(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard let left = lhs.baseAddress, let right = rhs.baseAddress else { return true }
        var offset = 0
        while offset + 8 <= lhs.count {
            if left.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != right.loadUnaligned(fromByteOffset: offset, as: UInt64.self) {
                return false
            }
            offset += 8
        }
        while offset < lhs.count {
            if left.load(fromByteOffset: offset, as: UInt8.self) != right.load(fromByteOffset: offset, as: UInt8.self) { return false }
            offset += 1
        }
        return true
    }
}
