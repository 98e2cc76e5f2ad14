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
}
