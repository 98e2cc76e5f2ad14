import Foundation

/// A value that can be a KV key: its bytes are what the store hashes and compares.
///
/// Strings are their UTF-8; integers are their decimal digits (so `get(42)` and
/// `runnel kv get STORE 42` find the same key); `[UInt8]` and `Data` are taken as they are.
public protocol KVKey: SendableMetatype {
    /// Calls `body` with the key's bytes.
    func withKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result
}

extension KVKey {
    /// The key's bytes, copied.
    public var keyBytes: [UInt8] { withKeyBytes { Array($0) } }
}

extension String: KVKey {
    public func withKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        if let result = try utf8.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) { return result }
        return try Array(utf8).withUnsafeBytes(body)
    }
}

extension Substring: KVKey {
    public func withKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try String(self).withKeyBytes(body)
    }
}

extension Int64: KVKey {
    public func withKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        // Decimal digits written into a small stack buffer: no allocation on the lookup path.
        try withUnsafeTemporaryAllocation(byteCount: 20, alignment: 1) { buffer in
            var magnitude = self.magnitude
            var index = 20
            repeat {
                index -= 1
                buffer[index] = UInt8(48 + magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if self < 0 {
                index -= 1
                buffer[index] = UInt8(ascii: "-")
            }
            return try body(UnsafeRawBufferPointer(rebasing: buffer[index...]))
        }
    }
}

extension Int: KVKey {
    public func withKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try Int64(self).withKeyBytes(body)
    }
}

extension Array: KVKey where Element == UInt8 {
    public func withKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withUnsafeBytes(body)
    }
}

extension Data: KVKey {
    public func withKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withUnsafeBytes(body)
    }
}

/// How keys and values are shown to a person: as text when they are printable UTF-8, else hex.
enum KVKeyText {
    static func describe(_ bytes: some Collection<UInt8>) -> String {
        if let text = String(validating: Array(bytes), as: UTF8.self), text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) {
            return "\"\(text)\""
        }
        return "0x" + bytes.map { String(format: "%02x", $0) }.joined()
    }
}
