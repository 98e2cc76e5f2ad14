import Foundation
import Runnel
import Testing

/// Writes the example report for people to look at, when `RUNNEL_REPORT_EXAMPLE` names a path
/// such as `/tmp/report-example.html`: the report there, its Markdown beside it (`.md`) and the
/// dashboard as `-dashboard.html`. Skipped otherwise, so a test run writes nothing.
@Suite struct ReportExampleTests {
    static let path = ProcessInfo.processInfo.environment["RUNNEL_REPORT_EXAMPLE"]

    @Test(.enabled(if: path != nil, "set RUNNEL_REPORT_EXAMPLE=/tmp/report-example.html to write the example"))
    func writeTheExampleReport() throws {
        let html = URL(fileURLWithPath: try #require(Self.path))
        let stem = html.deletingPathExtension()
        try ReportFixtures.example.html().write(to: html, atomically: true, encoding: .utf8)
        try ReportFixtures.example.markdown().write(to: stem.appendingPathExtension("md"), atomically: true, encoding: .utf8)
        let dashboard = stem.deletingLastPathComponent().appendingPathComponent(stem.lastPathComponent + "-dashboard.html")
        try ReportFixtures.exampleDashboard.html().write(to: dashboard, atomically: true, encoding: .utf8)
    }
}
