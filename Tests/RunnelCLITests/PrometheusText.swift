import Foundation

/// Prometheus's text exposition format, read back: the `# TYPE` of each family and every
/// sample's name, labels and value. Written here, apart from the library that emits it, so
/// the tests check the format rather than trust it.
struct PrometheusText {
    struct Sample: Hashable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    /// A line that is not a comment, a blank or a sample.
    struct Malformed: Error, CustomStringConvertible {
        var line: String
        var why: String
        var description: String { "malformed exposition line (\(why)): \(line)" }
    }

    /// Each family's type, by its name (`counter`, `gauge`, `histogram`, …).
    private(set) var types: [String: String] = [:]
    private(set) var samples: [Sample] = []

    init(_ text: String) throws {
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst("# TYPE ".count).split(separator: " ")
                guard parts.count == 2 else { throw Malformed(line: String(line), why: "a TYPE line is `# TYPE name type`") }
                guard types.updateValue(String(parts[1]), forKey: String(parts[0])) == nil else {
                    throw Malformed(line: String(line), why: "a second TYPE line for the family")
                }
            } else if !line.hasPrefix("#"), !line.allSatisfy(\.isWhitespace) {
                samples.append(try Self.sample(Array(line), String(line)))
            }
        }
    }

    /// `name{label="value",…} value [timestamp]`, label values escaped with `\\`, `\"`, `\n`.
    private static func sample(_ characters: [Character], _ line: String) throws -> Sample {
        var index = 0
        func take(while condition: (Character) -> Bool) -> String {
            var taken = ""
            while index < characters.count, condition(characters[index]) {
                taken.append(characters[index])
                index += 1
            }
            return taken
        }
        func expect(_ character: Character) throws {
            guard index < characters.count, characters[index] == character else {
                throw Malformed(line: line, why: "expected \(character) at column \(index + 1)")
            }
            index += 1
        }
        let name = take { $0 != "{" && $0 != " " }
        var labels: [String: String] = [:]
        if index < characters.count, characters[index] == "{" {
            index += 1
            while index < characters.count, characters[index] != "}" {
                let key = take { $0 != "=" }
                try expect("=")
                try expect("\"")
                var value = ""
                while index < characters.count, characters[index] != "\"" {
                    if characters[index] == "\\", index + 1 < characters.count {
                        index += 1
                        value.append(characters[index] == "n" ? "\n" : characters[index])
                    } else {
                        value.append(characters[index])
                    }
                    index += 1
                }
                try expect("\"")
                guard labels.updateValue(value, forKey: key) == nil else { throw Malformed(line: line, why: "label \(key) twice") }
                if index < characters.count, characters[index] == "," { index += 1 }
            }
            try expect("}")
        }
        try expect(" ")
        let fields = String(characters[index...]).split(separator: " ")
        guard (1...2).contains(fields.count), let value = number(fields[0]) else {
            throw Malformed(line: line, why: "a sample ends in a value and an optional timestamp")
        }
        return Sample(name: name, labels: labels, value: value)
    }

    private static func number(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(text)
        }
    }

    // MARK: - Reading

    /// The family a sample belongs to: its own name, or a histogram's or summary's for the
    /// `_bucket`, `_sum` and `_count` series; nil when no `# TYPE` covers it.
    func family(of sample: Sample) -> String? {
        if types[sample.name] != nil { return sample.name }
        for suffix in ["_bucket", "_sum", "_count"] where sample.name.hasSuffix(suffix) {
            let base = String(sample.name.dropLast(suffix.count))
            if ["histogram", "summary"].contains(types[base]) { return base }
        }
        return nil
    }

    /// The value of the sample with exactly these labels, or nil when there is none.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// The value, or 0 when the series was never made: a counter nobody incremented.
    func count(_ name: String, _ labels: [String: String] = [:]) -> Int {
        Int(value(name, labels) ?? 0)
    }
}
