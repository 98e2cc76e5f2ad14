import Foundation

/// Scalar values, written where they go.
extension PayloadWriter {
    /// Writes a value that needs no encoder of its own (a string, a number, a date…).
    /// - Returns: Whether it did; false for a value that encodes itself.
    /// - Throws: For a value Foundation treats specially and this writer does not.
    func writeSpecial<Value: Encodable>(_ value: Value) throws -> Bool {
        // Metatype comparisons, not casts: in unspecialized generic code a cast is a runtime
        // call, one per candidate type.
        let type = Value.self
        if type == String.self {
            writeString(unsafeBitCast(value, to: String.self))
        } else if type == Int.self {
            writeInteger(Int64(unsafeBitCast(value, to: Int.self)))
        } else if type == Int64.self {
            writeInteger(unsafeBitCast(value, to: Int64.self))
        } else if type == Date.self {
            writeInteger(unsafeBitCast(value, to: Date.self).millisecondsSince1970)
        } else if type == Bool.self {
            writeBool(unsafeBitCast(value, to: Bool.self))
        } else if type == Double.self {
            try writeDouble(unsafeBitCast(value, to: Double.self))
        } else if type == Data.self || type == URL.self || type == Decimal.self {
            throw giveUp()
        } else {
            return false
        }
        return true
    }

    /// Writes a value at the current position, with an encoder of its own when it needs one.
    /// - Parameter path: The keys from `parent`'s coding path to the value, asked for only when
    ///   the value needs an encoder.
    func write<Value: Encodable>(_ value: Value, parent: PayloadValueEncoder, path: () -> [any CodingKey]) throws {
        if try writeSpecial(value) { return }
        let encoder = PayloadValueEncoder(writer: self, parent: parent, path: path())
        try value.encode(to: encoder)
        try encoder.finish()
    }

    func writeNull() {
        bytes.append(contentsOf: [UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")])
    }

    func writeBool(_ value: Bool) {
        if value {
            bytes.append(contentsOf: [UInt8(ascii: "t"), UInt8(ascii: "r"), UInt8(ascii: "u"), UInt8(ascii: "e")])
        } else {
            bytes.append(contentsOf: [UInt8(ascii: "f"), UInt8(ascii: "a"), UInt8(ascii: "l"), UInt8(ascii: "s"), UInt8(ascii: "e")])
        }
    }

    func writeInteger(_ value: Int64) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
        }
        writeUnsigned(value.magnitude)
    }

    func writeUnsigned(_ value: UInt64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 24 bytes: the 20 digits of UInt64.max
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                count += 1
                buffer[24 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            bytes.append(contentsOf: buffer[(24 - count)...])
        }
    }

    /// A double as `JSONEncoder` writes it: Swift's shortest round-trip form, without a `.0`
    /// tail. Not-finite values are Foundation's to refuse.
    func writeDouble(_ value: Double) throws {
        guard value.isFinite else { throw giveUp() }
        writeNumberText(value.description)
    }

    func writeFloat(_ value: Float) throws {
        guard value.isFinite else { throw giveUp() }
        writeNumberText(value.description)
    }

    private func writeNumberText(_ text: String) {
        let utf8 = text.utf8
        if utf8.count > 2, utf8.last == UInt8(ascii: "0"), utf8[utf8.index(utf8.endIndex, offsetBy: -2)] == UInt8(ascii: ".") {
            bytes.append(contentsOf: utf8.dropLast(2))
        } else {
            bytes.append(contentsOf: utf8)
        }
    }

    /// A string literal escaped as `JSONEncoder` escapes it with `.withoutEscapingSlashes`: the
    /// quote, the backslash and control characters; everything else as its UTF-8 bytes.
    func writeString(_ string: String) {
        bytes.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { text in
            var plain = 0
            for (index, byte) in text.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[plain..<index]))
                plain = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[plain...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
