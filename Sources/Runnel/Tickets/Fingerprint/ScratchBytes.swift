#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// Bytes written into memory allocated once for one fingerprint or template: a kilobyte on the
/// stack (`withUnsafeTemporaryAllocation`, which below that size needs no check of the stack's
/// room), moved to the heap only for the rare job that needs more. The work per exception so
/// does not go through `malloc` and `Array`'s growth and uniqueness checks for every frame.
///
/// Pointers from ``bytes(_:)`` are valid until the next append; keep ranges instead.
struct ScratchBytes {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// The heap memory, once the stack's was not enough.
    private var heap: UnsafeMutablePointer<UInt8>?
    /// The bytes written so far.
    private(set) var count = 0

    private static let stackBytes = 1024

    /// Runs `body` with an empty buffer, valid only during the call.
    static func with<Result>(_ body: (inout ScratchBytes) throws -> Result) rethrows -> Result {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: stackBytes) { memory in
            var scratch = ScratchBytes(base: memory.baseAddress!, capacity: memory.count)
            defer { scratch.heap?.deallocate() }
            return try body(&scratch)
        }
    }

    private init(base: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    @inline(__always) mutating func append(_ byte: UInt8) {
        if count == capacity { grow(to: count + 1) }
        base[count] = byte
        count += 1
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        if count + bytes.count > capacity { grow(to: count + bytes.count) }
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        append(UnsafeBufferPointer(rebasing: bytes[range]))
    }

    mutating func append(_ text: StaticString) {
        append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inline(never) private mutating func grow(to needed: Int) {
        let newCapacity = max(needed, 2 * capacity)
        let memory = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        memory.update(from: base, count: count)
        heap?.deallocate()
        heap = memory
        base = memory
        capacity = newCapacity
    }

    /// Forgets the bytes from `newCount` on.
    mutating func truncate(to newCount: Int) {
        precondition(newCount <= count)
        count = newCount
    }

    /// The bytes in `range`, valid while the buffer is.
    func bytes(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        precondition(range.upperBound <= count)
        return UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// Everything written so far.
    var written: UnsafeBufferPointer<UInt8> { bytes(0..<count) }

    /// Whether two written ranges hold the same bytes.
    func same(_ first: Range<Int>, _ second: Range<Int>) -> Bool {
        first.count == second.count && memcmp(base + first.lowerBound, base + second.lowerBound, first.count) == 0
    }

    /// Whether the written bytes in `range` start with `prefix`.
    func has(prefix: UnsafeBufferPointer<UInt8>, in range: Range<Int>) -> Bool {
        guard let prefixBase = prefix.baseAddress else { return true }
        return prefix.count <= range.count && memcmp(base + range.lowerBound, prefixBase, prefix.count) == 0
    }

    /// The written bytes in `range` as a string.
    func string(_ range: Range<Int>) -> String {
        String(decoding: bytes(range), as: UTF8.self)
    }
}
