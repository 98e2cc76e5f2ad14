extension Report {
    /// One result as a JSON object on one line, keys in a fixed order:
    /// `{"scenario": …, "unit": …, "runnel": …, "baseline": …, "ratio": …, "goal": …, "met": …, "detail": {…}}`.
    ///
    /// Written by hand because `JSONEncoder` does not keep the order of keys.
    func jsonLine(_ result: ScenarioResult) -> String {
        let detail = result.detail.map { ($0.name, FigureFormat.json($0.value)) }
        return JSONText.object([
            ("scenario", JSONText.string(result.scenario)),
            ("unit", JSONText.string(result.unit)),
            ("runnel", FigureFormat.json(result.runnel)),
            ("baseline", FigureFormat.json(result.baseline)),
            ("ratio", FigureFormat.jsonRatio(result.ratio)),
            ("goal", FigureFormat.json(result.goal, places: 3)),
            ("met", result.met ? "true" : "false"),
            ("detail", JSONText.object(detail)),
        ])
    }
}

/// Just enough JSON writing for ``Report/jsonLine(_:)``.
enum JSONText {
    /// A JSON string literal.
    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A JSON object from keys and values already written as JSON.
    static func object(_ fields: [(key: String, value: String)]) -> String {
        "{" + fields.map { "\(string($0.key)): \($0.value)" }.joined(separator: ", ") + "}"
    }
}
