/// Strings: plain ones are copied straight from the document, escaped ones are unescaped once
/// into the new string's own storage.
extension JSONDocument {
    /// The string a string node holds. The scanner has checked its escapes and UTF-8.
    func makeString(_ node: JSONNode) -> String {
        let content = UnsafeBufferPointer(start: bytes + node.contentStart, count: Int(node.length))
        if !node.flags.contains(.escaped) {
            return String(decoding: content, as: UTF8.self)
        }
        return Self.unescape(content)
    }

    /// Unescapes the content of a string the scanner has validated. The result is never longer
    /// than the escaped text (`\n` is 2 bytes for 1, `\uXXXX` 6 for at most 3, a surrogate pair
    /// 12 for 4), so it is written straight into a string of that capacity.
    static func unescape(_ content: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: content.count) { output in
            var input = 0
            var written = 0
            while input < content.count {
                let byte = content[input]
                guard byte == UInt8(ascii: "\\") else {
                    output[written] = byte
                    written += 1
                    input += 1
                    continue
                }
                let escape = content[input + 1]
                input += 2
                switch escape {
                case UInt8(ascii: "b"): output[written] = 0x08
                case UInt8(ascii: "f"): output[written] = 0x0C
                case UInt8(ascii: "n"): output[written] = 0x0A
                case UInt8(ascii: "r"): output[written] = 0x0D
                case UInt8(ascii: "t"): output[written] = 0x09
                case UInt8(ascii: "u"):
                    var scalar = hexUnit(content, at: input)
                    input += 4
                    if (0xD800...0xDBFF).contains(scalar) {
                        // The scanner guarantees `\uDC00`-`\uDFFF` follows.
                        let low = hexUnit(content, at: input + 2)
                        input += 6
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    written += encodeUTF8(scalar, into: output, at: written)
                    continue
                default:
                    // `\"`, `\\` and `\/` stand for the escaped byte itself.
                    output[written] = escape
                }
                written += 1
            }
            return written
        }
    }

    private static func hexUnit(_ content: UnsafeBufferPointer<UInt8>, at offset: Int) -> UInt32 {
        var unit: UInt32 = 0
        for index in offset..<offset + 4 {
            unit = unit << 4 | UInt32(JSONScanner.hexValue(content[index]) ?? 0)
        }
        return unit
    }

    /// Writes `scalar` as UTF-8 and returns the number of bytes written.
    private static func encodeUTF8(_ scalar: UInt32, into output: UnsafeMutableBufferPointer<UInt8>, at offset: Int) -> Int {
        switch scalar {
        case 0..<0x80:
            output[offset] = UInt8(scalar)
            return 1
        case 0x80..<0x800:
            output[offset] = UInt8(0xC0 | scalar >> 6)
            output[offset + 1] = UInt8(0x80 | scalar & 0x3F)
            return 2
        case 0x800..<0x10000:
            output[offset] = UInt8(0xE0 | scalar >> 12)
            output[offset + 1] = UInt8(0x80 | scalar >> 6 & 0x3F)
            output[offset + 2] = UInt8(0x80 | scalar & 0x3F)
            return 3
        default:
            output[offset] = UInt8(0xF0 | scalar >> 18)
            output[offset + 1] = UInt8(0x80 | scalar >> 12 & 0x3F)
            output[offset + 2] = UInt8(0x80 | scalar >> 6 & 0x3F)
            output[offset + 3] = UInt8(0x80 | scalar & 0x3F)
            return 4
        }
    }
}
