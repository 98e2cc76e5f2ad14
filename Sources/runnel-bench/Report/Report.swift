import Foundation

/// How ``Report`` prints results.
enum ReportFormat: String, CaseIterable, Sendable {
    /// An aligned table after the last scenario, with a note line per scenario.
    case table
    /// One JSON object per scenario and line, printed as each scenario finishes.
    case json
}

/// Collects scenario results and prints them on standard output; progress goes to standard
/// error so that JSON output stays clean.
struct Report {
    /// The output format.
    let format: ReportFormat
    /// The results so far, in run order.
    private(set) var results: [ScenarioResult] = []

    init(format: ReportFormat) {
        self.format = format
    }

    /// Says on standard error which scenario is running, since a full run takes minutes.
    func starting(_ scenario: some Scenario, quick: Bool) {
        FileHandle.standardError.write(Data("running \(scenario.name)\(quick ? " (quick)" : "")…\n".utf8))
    }

    /// Adds a result; JSON output prints it at once.
    mutating func add(_ result: ScenarioResult) {
        results.append(result)
        if format == .json {
            write(jsonLine(result))
        }
    }

    /// Prints what is still to print: the table, for table output.
    func finish() {
        if format == .table {
            write(table(results))
        }
    }

    /// Writes a line to standard output at once (unbuffered), so each JSON line shows as its
    /// scenario finishes.
    private func write(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}

/// How figures are rounded for people and for JSON.
enum FigureFormat {
    /// Sensible precision for a person: `1234`, `45.6`, `0.93`.
    static func display(_ value: Double) -> String {
        guard value.isFinite else { return value > 0 ? "∞" : "-" }
        let magnitude = value.magnitude
        return String(format: magnitude >= 100 ? "%.0f" : magnitude >= 10 ? "%.1f" : "%.2f", value)
    }

    /// A ratio with two decimals, rounded down, so that a ratio just under its goal never reads
    /// as the goal itself (0.7996 shows as 0.79, not 0.80).
    static func displayRatio(_ ratio: Double) -> String {
        guard ratio.isFinite else { return ratio > 0 ? "∞" : "-" }
        return String(format: "%.2f", (ratio * 100 + 1e-9).rounded(.down) / 100)
    }

    /// A ratio for JSON: three decimals, rounded down for the same reason as ``displayRatio(_:)``.
    static func jsonRatio(_ ratio: Double) -> String {
        guard ratio.isFinite else { return "null" }
        return json((ratio * 1000 + 1e-9).rounded(.down) / 1000, places: 3)
    }

    /// A JSON number, rounded to what the measurement can tell: one decimal from 100 up, two
    /// from 10, three below; `null` when not finite.
    static func json(_ value: Double, places: Int? = nil) -> String {
        guard value.isFinite else { return "null" }
        let magnitude = value.magnitude
        let scale = pow(10, Double(places ?? (magnitude >= 100 ? 1 : magnitude >= 10 ? 2 : 3)))
        let rounded = (value * scale).rounded() / scale
        if rounded == rounded.rounded(), rounded.magnitude < 1e15 {
            return String(Int64(rounded))
        }
        return "\(rounded)"
    }
}
