/// Just enough JSON writing for line-oriented output (the CLI's `--format json`, the benchmark's
/// report), where building a `JSONEncoder` value per line would cost more than the line.
package enum JSONText {
    /// A JSON string literal, escaped per RFC 8259.
    package static func quoted(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A JSON object from keys and values already written as JSON; `spaced` puts a space after
    /// each colon and comma, as `{"a": 1, "b": 2}`.
    package static func object(_ fields: [(key: String, value: String)], spaced: Bool = false) -> String {
        let colon = spaced ? ": " : ":"
        return "{" + fields.map { quoted($0.key) + colon + $0.value }.joined(separator: spaced ? ", " : ",") + "}"
    }

    /// The fields of a flat JSON object of strings without escapes, such as `{"a":"1","b":"2"}`
    /// as ``object(_:spaced:)`` writes it; nil for anything else (a backslash, a number, nesting,
    /// whitespace), which the caller then decodes the general way. Reading the relay's headers
    /// this way costs a scan instead of a decoder pass per row.
    package static func flatStrings(_ text: String) -> [(key: String, value: String)]? {
        var text = text
        return text.withUTF8 { bytes -> [(key: String, value: String)]? in
            var fields: [(key: String, value: String)] = []
            var index = 0
            func string() -> String? {
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
                let start = index + 1
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 { end += 1 }
                guard end < bytes.count, bytes[end] == UInt8(ascii: "\"") else { return nil }
                index = end + 1
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
            }
            guard bytes.count >= 2, bytes[0] == UInt8(ascii: "{") else { return nil }
            index = 1
            if bytes[index] == UInt8(ascii: "}") { return index + 1 == bytes.count ? [] : nil }
            while true {
                guard let key = string(), index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                index += 1
                guard let value = string(), index < bytes.count else { return nil }
                fields.append((key, value))
                if bytes[index] == UInt8(ascii: "}") { return index + 1 == bytes.count ? fields : nil }
                guard bytes[index] == UInt8(ascii: ",") else { return nil }
                index += 1
            }
        }
    }
}
