extension CronExpression {
    /// The five-field expression each macro stands for.
    static let macros: [(name: String, expansion: String)] = [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
    ]

    /// The shape every message about field counts shows.
    static let expectedShape = "minute hour day-of-month month day-of-week"

    /// The five fields of `text` (a macro expanded), split on runs of white space.
    /// - Throws: ``RunnelError`` (`.schedule`) for an unknown macro, `@reboot`, or a field count other than five.
    static func fields(of text: String) throws -> [Substring] {
        if text.hasPrefix("@") {
            let name = text.lowercased()
            if let macro = macros.first(where: { $0.name == name }) {
                return macro.expansion.split(separator: " ")
            }
            if name == "@reboot" {
                throw RunnelError(
                    .schedule, "@reboot is not supported: a schedule fires at times of day, not when a process starts",
                    hint: "Use a time-based expression such as @daily, or start the work from your own code when the process starts")
            }
            throw RunnelError(
                .schedule, "unknown macro \"\(text)\"",
                hint: "Use one of \(macros.map(\.name).joined(separator: ", ")), or five fields: \(expectedShape)")
        }
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard fields.count == 5 else {
            let found = fields.isEmpty ? "the expression is empty" : "\"\(text)\" has \(fields.count) field\(fields.count == 1 ? "" : "s")"
            // Six or seven fields usually mean a seconds or year field (Quartz, Spring) or a
            // crontab line with its command: say which shape Runnel reads.
            let extra = fields.count > 5 ? " (there is no seconds or year field, and no command)" : ""
            throw RunnelError(
                .schedule, "\(found); a cron expression has 5 fields: \(expectedShape)\(extra)",
                hint: "Write five fields separated by spaces, for example \"*/15 * * * *\" or \"30 2 * * mon-fri\", or a macro such as @daily")
        }
        return fields
    }

    /// A field's values as a bitset (bit `v` set when value `v` is chosen), and whether the field
    /// is one plain value (no `*`, list, range or step), which makes an entry fixed-time.
    /// - Parameters:
    ///   - text: The field as written.
    ///   - field: Which field it is.
    /// - Throws: ``RunnelError`` (`.schedule`) naming the field, its column and what it allows.
    static func parse(_ text: Substring, as field: CronField) throws -> (bits: UInt64, isSingleValue: Bool) {
        var bits: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else {
                throw RunnelError(
                    .schedule, "\"\(text)\" in \(field.place) has an empty list item",
                    hint: "Separate values with single commas and no spaces, as in 1,15,30")
            }
            bits |= try parseItem(item, as: field)
        }
        if field == .dayOfWeek, bits & (1 << 7) != 0 {
            // 7 is Sunday again: keep one bit per weekday.
            bits = (bits & ~(1 << 7)) | 1
        }
        let isSingleValue = !text.contains(where: { "*,-/".contains($0) })
        return (bits, isSingleValue)
    }

    /// One list item: `*`, `a`, `a-b`, each optionally followed by `/step`.
    private static func parseItem(_ item: Substring, as field: CronField) throws -> UInt64 {
        let parts = item.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else {
            throw RunnelError(.schedule, "\"\(item)\" in \(field.place) has more than one step", hint: "Write one step, as in */15 or 10-50/20")
        }
        let range = parts[0]
        var step = 1
        if parts.count == 2 {
            step = try parseStep(parts[1], item: item, as: field)
        }
        var low: Int
        var high: Int
        if range == "*" {
            (low, high) = (field.minimum, field == .dayOfWeek ? 6 : field.maximum)
        } else if let dash = range.firstIndex(of: "-") {
            low = try parseValue(range[..<dash], item: item, as: field)
            high = try parseValue(range[range.index(after: dash)...], item: item, as: field)
            // SAT-SUN reads as Saturday to Sunday: Sunday at the end of a range is 7.
            if field == .dayOfWeek, high == 0, low > 0 { high = 7 }
            guard low <= high else {
                throw RunnelError(
                    .schedule, "\"\(item)\" in \(field.place) is an empty range: \(low) is after \(high)",
                    hint: "Write the smaller value first; to wrap around, list two ranges, as in 22-23,0-2")
            }
        } else {
            low = try parseValue(range, item: item, as: field)
            // `a/n` means from a to the end of the field, every n.
            high = parts.count == 2 ? (field == .dayOfWeek ? 6 : field.maximum) : low
        }
        var bits: UInt64 = 0
        for value in stride(from: low, through: high, by: step) {
            bits |= 1 << UInt64(value)
        }
        return bits
    }

    private static func parseStep(_ text: Substring, item: Substring, as field: CronField) throws -> Int {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw RunnelError(
                .schedule, "\"\(item)\" in \(field.place) has a step \"\(text)\" that is not a whole number",
                hint: "Write a step as a number after a slash, as in */15 or 10-50/20")
        }
        let step = Int(text) ?? Int.max
        guard step > 0 else {
            throw RunnelError(.schedule, "\"\(item)\" in \(field.place) has a step of 0", hint: "Use a step of 1 or more, as in */15")
        }
        guard step <= field.maximum else {
            throw RunnelError(
                .schedule, "\"\(item)\" in \(field.place) has a step of \(text), larger than the field's range \(field.allowed)",
                hint: "Use a step of at most \(field.maximum), or a single value")
        }
        return step
    }

    private static func parseValue(_ text: Substring, item: Substring, as field: CronField) throws -> Int {
        if let first = text.first, first.isLetter {
            if let index = field.names.firstIndex(of: text.lowercased()) {
                return index + field.nameBase
            }
            let what = field.names.isEmpty ? "is not a number" : "is not a \(field == .month ? "month" : "day") name or a number"
            throw RunnelError(
                .schedule, "\"\(text)\" in \(field.place) \(what)",
                hint: "Use \(field.allowed), `*`, lists (1,3), ranges (1-5) and steps (*/2)")
        }
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            let shown = text.isEmpty ? item : text
            throw RunnelError(
                .schedule, "\"\(shown)\" in \(field.place) is not a value: use \(field.allowed)",
                hint: "Write numbers\(field.names.isEmpty ? "" : " or names"), `*`, lists (1,3), ranges (1-5) and steps (*/2), with no spaces inside a field")
        }
        // Digits too many for an Int are out of range too.
        let value = Int(text) ?? Int.max
        guard value >= field.minimum, value <= field.maximum else {
            throw RunnelError(
                .schedule, "\"\(text)\" in \(field.place) is out of \(field.allowed)",
                hint: "Use a value from \(field.minimum) to \(field.maximum)\(field.names.isEmpty ? "" : ", or a name")")
        }
        return value
    }
}
