import Foundation
import HummingbirdTesting
import Runnel
import Testing

/// `/reports/…` serves the files of `<home>/reports/` and nothing else, however the path is
/// spelled and wherever a link inside points.
@Suite struct DashboardReportFilesTests {
    @Test func reportsAreServed() async throws {
        let home = try await DashboardHome(demo: false)
        try Self.writeReport(in: home)
        try await home.withClient { client in
            for uri in ["/reports/exceptions/", "/reports/exceptions/index.html"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok, "\(uri)")
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                    #expect(response.text.contains("Exceptions"))
                }
            }
            try await client.execute(uri: "/exceptions", method: .get) { response in
                #expect(response.text.contains("href=\"/reports/exceptions/\""))
            }
            try await client.execute(uri: "/reports/exceptions/no-such-report.html", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.text.contains("there is no report at /reports/exceptions/no-such-report.html"))
            }
        }
    }

    @Test func noPathLeavesTheReportsFolder() async throws {
        let home = try await DashboardHome(demo: false)
        try Self.writeReport(in: home)
        let secret = "secret-outside-the-reports-folder"
        let outside = home.temporary.folder.appendingPathComponent("outside", isDirectory: true)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data(secret.utf8).write(to: outside.appendingPathComponent("secret.html"))
        try Data(secret.utf8).write(to: home.home.url.appendingPathComponent("secret.html"))
        let reports = home.home.reportsURL
        try FileManager.default.createSymbolicLink(at: reports.appendingPathComponent("leak.html"), withDestinationURL: outside.appendingPathComponent("secret.html"))
        try FileManager.default.createSymbolicLink(at: reports.appendingPathComponent("outside"), withDestinationURL: outside)
        try FileManager.default.createSymbolicLink(at: reports.appendingPathComponent("up"), withDestinationURL: URL(fileURLWithPath: ".."))

        let attempts = [
            "/reports/../secret.html", "/reports/exceptions/../../secret.html", "/reports/./../secret.html",
            "/reports/%2e%2e/secret.html", "/reports/%2E%2E/secret.html", "/reports/..%2fsecret.html", "/reports/..%2Fsecret.html",
            "/reports/%2e%2e%2fsecret.html", "/reports/exceptions/%2e%2e%2f%2e%2e%2fsecret.html", "/reports/..%5csecret.html",
            "/reports/%252e%252e/secret.html", "/reports/secret.html%00.html", "/reports//secret.html",
            "/reports/leak.html", "/reports/outside/secret.html", "/reports/up/secret.html", "/reports/up/app.sqlite",
        ]
        try await home.withClient { client in
            for uri in attempts {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .badRequest || response.status == .notFound, "\(uri): \(response.status)")
                    #expect(!response.text.contains(secret), "\(uri) served a file outside reports/")
                    #expect(!response.text.contains("SQLite format"), "\(uri) served a database")
                }
            }
            try await client.execute(uri: "/reports/%2e%2e/secret.html", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.text.contains("is not allowed"))
            }
        }
    }

    /// `reports/exceptions/index.html`, as `runnel report` writes it (its content does not matter here).
    static func writeReport(in home: DashboardHome) throws {
        let folder = home.home.reportsURL.appendingPathComponent("exceptions", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("<!DOCTYPE html><html><body><h1>Exceptions: test</h1></body></html>".utf8).write(to: folder.appendingPathComponent("index.html"))
    }
}
