import Foundation
import GRDB
import Runnel

/// Prints query results as an aligned table, JSON lines or CSV.
///
/// JSON and CSV stream row by row; the table waits for every row to size its columns.
///
/// Runnel stores every time as milliseconds since 1970. The table, which a person reads, shows
/// the integers of time columns (named `window_start`, `window_end`, `timestamp` or ending in
/// `_at` or `_time`) as ISO 8601 UTC times; JSON and CSV keep the milliseconds, for programs.
struct RowPrinter {
    let format: OutputFormat
    let console: Console
    /// Columns holding JSON text that JSON output embeds as objects instead of strings.
    var jsonColumns: Set<String> = []
    /// The widest a table cell gets before it is cut with "…".
    var maximumCellWidth = 48
    /// Whether a table ends with `(N rows)`.
    var countsRows = true

    /// Runs a read-only statement and prints every row it returns.
    /// - Returns: The number of rows printed.
    @discardableResult
    func print(_ statement: Statement, arguments: StatementArguments = []) throws -> Int {
        let cursor = try Row.fetchCursor(statement, arguments: arguments)
        return try print(columns: statement.columnNames) { try cursor.next()?.databaseValues.map { $0 } }
    }

    /// Prints rows computed by the caller.
    @discardableResult
    func print(columns: [String], rows: [[DatabaseValue]]) -> Int {
        var iterator = rows.makeIterator()
        // Rows in memory: the row source cannot fail.
        return (try? print(columns: columns) { iterator.next() }) ?? 0
    }

    private func print(columns: [String], next: () throws -> [DatabaseValue]?) throws -> Int {
        var count = 0
        switch format {
        case .json:
            while let values = try next() {
                console.print(jsonLine(columns, values))
                count += 1
            }
        case .csv:
            console.print(columns.map(Self.csvField).joined(separator: ","))
            while let values = try next() {
                console.print(values.map { Self.csvField(Self.text($0)) }.joined(separator: ","))
                count += 1
            }
        case .table:
            let times = Set(columns.indices.filter { Self.isTimeColumn(columns[$0]) })
            let clock = TimeText()
            var cells: [[String]] = []
            while let values = try next() {
                cells.append(values.enumerated().map { index, value in
                    if times.contains(index), case .int64(let milliseconds) = value.storage {
                        return clock.iso(milliseconds)
                    }
                    return cell(Self.text(value, null: "NULL"))
                })
            }
            printTable(columns.map(cell), cells)
            count = cells.count
        }
        return count
    }

    private func printTable(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows {
            for (index, value) in row.enumerated() { widths[index] = max(widths[index], value.count) }
        }
        func line(_ values: [String]) -> String {
            zip(values, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: "  ")
                .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        console.print(line(header))
        console.print(line(widths.map { String(repeating: "-", count: $0) }))
        rows.forEach { console.print(line($0)) }
        if countsRows { console.print("(\(rows.count) row\(rows.count == 1 ? "" : "s"))") }
    }

    private func cell(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: "⏎").replacingOccurrences(of: "\t", with: " ")
        return flat.count > maximumCellWidth ? String(flat.prefix(maximumCellWidth - 1)) + "…" : flat
    }

    private func jsonLine(_ columns: [String], _ values: [DatabaseValue]) -> String {
        var fields: [String] = []
        for (column, value) in zip(columns, values) {
            let json: String
            if jsonColumns.contains(column), case .string(let text) = value.storage {
                json = text
            } else {
                json = Self.json(value)
            }
            fields.append("\(JSONText.quoted(column)):\(json)")
        }
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func json(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: "null"
        case .int64(let number): String(number)
        case .double(let number): number.isFinite ? "\(number)" : "null"
        case .string(let text): JSONText.quoted(text)
        case .blob(let data): JSONText.quoted(data.base64EncodedString())
        }
    }

    static func text(_ value: DatabaseValue, null: String = "") -> String {
        switch value.storage {
        case .null: null
        case .int64(let number): String(number)
        case .double(let number): "\(number)"
        case .string(let text): text
        case .blob(let data): data.base64EncodedString()
        }
    }

    /// Whether a column holds times by Runnel's naming (milliseconds since 1970).
    static func isTimeColumn(_ name: String) -> Bool {
        let name = name.lowercased()
        return name == "window_start" || name == "window_end" || name == "timestamp" || name.hasSuffix("_at") || name.hasSuffix("_time")
    }

    /// Writes milliseconds since 1970 as ISO 8601 UTC times, with milliseconds when there are any.
    final class TimeText {
        private let whole = ISO8601DateFormatter()
        private let fractional = ISO8601DateFormatter()

        init() {
            fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        }

        func iso(_ milliseconds: Int64) -> String {
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            return (milliseconds % 1000 == 0 ? whole : fractional).string(from: date)
        }
    }

    /// RFC 4180: quote a field holding a comma, quote or line break, doubling inner quotes.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
