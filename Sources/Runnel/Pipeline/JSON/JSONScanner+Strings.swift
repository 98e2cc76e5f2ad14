extension JSONScanner {
    /// Scans a string (a key or a value) that starts at the current byte, a double quote.
    ///
    /// Checks what JSON and Swift's `String` need: no raw control characters, only the escapes
    /// JSON defines, `\u` surrogates in pairs, and valid UTF-8. Records whether the string has
    /// escapes or non-ASCII bytes so decoding can copy plain strings straight from the bytes.
    mutating func scanString() throws {
        let start = position
        position += 1
        var flags: JSONNode.Flags = []
        while true {
            skipPlainStringBytes()
            guard position < count else {
                throw syntaxError("the string that starts at byte \(start) has no closing quote")
            }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                break
            } else if byte == UInt8(ascii: "\\") {
                flags.insert(.escaped)
                try scanEscape()
            } else if byte >= 0x80 {
                flags.insert(.nonASCII)
                try scanUTF8Sequence()
            } else if byte < 0x20 {
                throw syntaxError("unescaped control character 0x\(String(byte, radix: 16, uppercase: true)) at byte \(position) in the string that starts at byte \(start); JSON requires it as a \\u escape")
            } else {
                position += 1
            }
        }
        try append(.string, start: start, length: position - start - 1, flags: flags)
        position += 1
    }

    /// Moves past bytes that need no attention (printable ASCII other than `"` and `\`), eight
    /// at a time while eight remain: most of an event's bytes are in plain strings.
    @inline(__always)
    private mutating func skipPlainStringBytes() {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while position + 8 <= count {
            let word = UInt64(littleEndian: UnsafeRawPointer(bytes + position).loadUnaligned(as: UInt64.self))
            // Classic bit tricks flag a byte that equals `"` or `\`, is below 0x20, or has its
            // high bit set. Borrows can flag bytes after a flagged one, never before it, so the
            // lowest flag marks the first byte that needs attention.
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            let special = (((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | (word &- ones &* 0x20) | word) & highs
            if special != 0 {
                position += special.trailingZeroBitCount >> 3
                return
            }
            position += 8
        }
        while position < count {
            let byte = bytes[position]
            guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") else { return }
            position += 1
        }
    }

    /// Scans one escape sequence starting at a backslash.
    private mutating func scanEscape() throws {
        let start = position
        guard position + 1 < count else {
            throw syntaxError("the escape at byte \(start) is cut off by the end of the document")
        }
        switch bytes[position + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
             UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            position += 2
        case UInt8(ascii: "u"):
            let unit = try hexEscape(at: start)
            position += 6
            if (0xD800...0xDBFF).contains(unit) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard position + 1 < count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u"),
                      (0xDC00...0xDFFF).contains(try hexEscape(at: position)) else {
                    throw syntaxError("unpaired UTF-16 high surrogate \\u\(String(unit, radix: 16, uppercase: true)) at byte \(start); it must be followed by a \\u escape of a low surrogate (DC00-DFFF)")
                }
                position += 6
            } else if (0xDC00...0xDFFF).contains(unit) {
                throw syntaxError("unpaired UTF-16 low surrogate \\u\(String(unit, radix: 16, uppercase: true)) at byte \(start); it must follow a high surrogate (D800-DBFF)")
            }
        default:
            throw syntaxError("invalid escape '\\\(describeByte(at: position + 1).trimmingQuotes)' at byte \(start); JSON allows only \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX")
        }
    }

    /// The code unit of the `\uXXXX` escape whose backslash is at `offset`.
    private func hexEscape(at offset: Int) throws -> UInt16 {
        guard offset + 6 <= count else {
            throw syntaxError("the \\u escape at byte \(offset) is cut off by the end of the document")
        }
        var unit: UInt16 = 0
        for index in offset + 2..<offset + 6 {
            guard let digit = JSONScanner.hexValue(bytes[index]) else {
                throw syntaxError("the \\u escape at byte \(offset) needs four hex digits, found \(describeByte(at: index)) at byte \(index)")
            }
            unit = unit << 4 | UInt16(digit)
        }
        return unit
    }

    /// The value of an ASCII hex digit, or nil.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte &- UInt8(ascii: "A") &+ 10
        default: nil
        }
    }

    /// Checks one multi-byte UTF-8 sequence starting at the current byte (Unicode 15, table 3-7:
    /// no overlong forms, no surrogates, nothing above U+10FFFF).
    private mutating func scanUTF8Sequence() throws {
        let lead = bytes[position]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: throw invalidUTF8(at: position)
        }
        guard position + length <= count, secondRange.contains(bytes[position + 1]) else {
            throw invalidUTF8(at: position)
        }
        for offset in 2..<length where !(0x80...0xBF).contains(bytes[position + offset]) {
            throw invalidUTF8(at: position)
        }
        position += length
    }

    private func invalidUTF8(at offset: Int) -> DecodingError {
        syntaxError("invalid UTF-8 at byte \(offset) (lead byte 0x\(String(bytes[offset], radix: 16, uppercase: true))); JSON text must be UTF-8")
    }
}

private extension String {
    /// `'x'` without its quotes, for quoting a byte inside another message.
    var trimmingQuotes: Substring {
        hasPrefix("'") && hasSuffix("'") && count == 3 ? dropFirst().dropLast() : Substring(self)
    }
}
