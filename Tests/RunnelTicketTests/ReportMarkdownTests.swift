import Foundation
import Runnel
import Testing

/// The Markdown report: fences that nothing inside can close, and table cells that nothing
/// inside can split.
@Suite struct ReportMarkdownTests {
    /// Splits a table row on its unescaped pipes, as GitHub does: a backslash escapes the next
    /// character, whatever it is.
    static func cells(_ row: Substring) -> [String] {
        var cells: [String] = []
        var cell = ""
        var escaped = false
        for character in row {
            if escaped {
                cell.append(character)
                escaped = false
            } else if character == "\\" {
                cell.append(character)
                escaped = true
            } else if character == "|" {
                cells.append(cell)
                cell = ""
            } else {
                cell.append(character)
            }
        }
        cells.append(cell)
        // The outer pipes leave an empty first and last cell.
        return Array(cells.dropFirst().dropLast()).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    @Test func fencesAreLongerThanAnyBacktickRunInside() throws {
        let trace = "first ``` line\n````\nend with `````` six"
        let report = ExceptionReport(title: "t", hour: ReportFixtures.hour,
                                     tickets: [ReportFixtures.ticket("1", .new, message: "plain", trace: trace)],
                                     hourlyCounts: [], typesByLevel: [])
        let markdown = report.markdown()
        #expect(markdown.contains("\n```````text\n" + trace + "\n```````\n"))
        // The plain message gets the shortest fence.
        #expect(markdown.contains("\n```text\nplain\n```\n"))
    }

    @Test func theExampleTraceWithBackticksIsFencedSafely() {
        let markdown = ReportFixtures.example.markdown()
        #expect(markdown.contains("````text\nTimeoutException: deadline exceeded"))
    }

    @Test func pipesInTableCellsAreEscaped() throws {
        let owner = #"team | ops \| more"#
        let type = "Either<A|B>"
        let report = ExceptionReport(
            title: "t", hour: ReportFixtures.hour,
            tickets: [ReportFixtures.ticket("5", .ongoing, owner: owner, type: type)],
            hourlyCounts: [],
            typesByLevel: [.init(exceptionType: type, level: "ERR|OR", count: 2)])
        let lines = report.markdown().split(separator: "\n")
        let typeRow = try #require(lines.first { $0.hasPrefix("| Either") })
        #expect(Self.cells(typeRow) == [#"Either\<A\|B\>"#, #"ERR\|OR"#, "2"])
        let ticketRow = try #require(lines.first { $0.hasPrefix("| 5 |") })
        let cells = Self.cells(ticketRow)
        #expect(cells.count == 9)
        #expect(cells[2] == #"team \| ops \\\| more"#)
        #expect(cells[3] == #"Either\<A\|B\>"#)
    }

    @Test func tablesListRowsInTheDocumentedOrder() throws {
        let markdown = ReportFixtures.example.markdown()
        let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex(of: "## Exception types by level, this hour"))
        let rows = lines[(start + 4)...].prefix { $0.hasPrefix("|") }.map { Self.cells($0) }
        #expect(rows.map { $0[0] + " " + $0[1] + " " + $0[2] } == [
            "java.lang.NullPointerException ERROR 412", "TimeoutException ERROR 35", "TimeoutException WARN 35",
            "SMTPException ERROR 16", "java.lang.IllegalStateException ERROR 14", "Swift.FatalError FATAL 3",
            "CircuitBreakerOpen WARN 1", "ValidationError INFO 1", "java.io.IOException WARN 1",
        ])
        let ongoing = try #require(lines.firstIndex(of: "## Ongoing tickets"))
        let ids = lines[(ongoing + 4)...].prefix { $0.hasPrefix("|") }.map { Self.cells($0)[0] }
        #expect(ids == ["3120", "2871", "2650", "2533", "1999"])
        // New and regressed tickets come first, as headings.
        let headings = lines.filter { $0.hasPrefix("### ") }
        #expect(headings.map { $0.split(separator: " ").prefix(3).joined(separator: " ") } == [
            "### NEW \\#4102", "### NEW \\#4107", "### REGRESSED \\#3988",
        ])
    }

    @Test func ticketFieldsAndSparklinesAreThere() {
        let markdown = ReportFixtures.example.markdown()
        #expect(markdown.contains("- Owner: *no owner*\n"))
        #expect(markdown.contains("- First seen: 2026-01-05T13:07:12Z\n"))
        #expect(markdown.contains("- Last 24 hours: 412 exceptions, at most 412 in an hour `▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁█`\n"))
        #expect(markdown.contains("- Per hour, oldest first: " + Array(repeating: "0", count: 23).joined(separator: " ") + " 412\n"))
        #expect(markdown.contains("| messaging |"))
    }
}
