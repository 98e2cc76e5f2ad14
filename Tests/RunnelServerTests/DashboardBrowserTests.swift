import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting
import Testing

/// The real `runnel serve`, started as a child process, read by a real browser (headless
/// Chromium): each page's DOM is checked against the databases and saved as a screenshot.
///
/// Chromium is required (CI installs it); `RUNNEL_SKIP_BROWSER=1` skips the test where it cannot
/// be installed.
@Suite struct DashboardBrowserTests {
    @Test func everyPageRendersInABrowser() async throws {
        // On a thread of its own: waiting for the server's output and for each Chromium run
        // blocks, and must not hold a thread of the cooperative pool other tests need.
        try await ServiceThread.run(named: "dashboard-browser-test") { try await readEveryPage() }
    }

    private func readEveryPage() async throws {
        let environment = ProcessInfo.processInfo.environment
        if environment["RUNNEL_SKIP_BROWSER"] == "1" { return }
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
            .first(where: FileManager.default.isExecutableFile(atPath:)) else {
            Issue.record("chromium is not installed: install it (`apt-get install chromium`, as .ci/run does), or set RUNNEL_SKIP_BROWSER=1 to skip the browser test")
            return
        }
        let home = try await DashboardHome()
        let artifacts = Self.artifactsFolder(environment)
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)

        let output = Pipe()
        let server = try ChildProcess.launch(["serve", "--port", "0", "--home", home.home.url.path], standardOutput: output)
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        let base = try #require(Self.dashboardURL(from: output.fileHandleForReading), "runnel serve printed no `Dashboard: http://…` line")
        #expect(base.hasPrefix("http://127.0.0.1:") && !base.hasSuffix(":0/"))

        let facts = try Self.facts(home)
        let browser = Browser(executable: chromium, profile: home.temporary.folder.appendingPathComponent("chromium-profile"))
        let pages: [(name: String, path: String, check: @Sendable (String) -> Void)] = [
            ("status", "", { dom in
                #expect(dom.contains("id=\"runners\""))
                #expect(Self.count("<tr data-runner=", in: dom) == facts.runners)
            }),
            ("pipelines", "pipelines", { dom in
                #expect(Self.count("class=\"lag-series\"", in: dom) == SampleCatalog.catalog.pipelines.count)
                #expect(Self.count("<svg", in: dom) >= SampleCatalog.catalog.pipelines.count)
            }),
            ("exceptions", "exceptions", { dom in
                #expect(dom.contains("<svg"))
                #expect(Self.count("<polyline data-service=", in: dom) == facts.servicesInWindow)
                #expect(Self.count("<tr data-ticket-id=", in: dom) == facts.openTickets)
            }),
            ("tickets", "tickets?state=all", { dom in
                #expect(Self.count("<tr data-ticket-id=", in: dom) == facts.tickets)
            }),
            ("ticket", "exceptions/tickets/\(facts.ticketID)", { dom in
                #expect(dom.contains("id=\"stack-trace\""))
                #expect(dom.contains("class=\"sparkline\""))
            }),
            ("sagas", "sagas", { dom in
                #expect(Self.count("<tr data-instance-id=", in: dom) == min(facts.sagaInstances, 50))
                #expect(Self.count("<td class=\"number\" data-state=", in: dom) == 5)
            }),
            ("saga", "sagas/\(facts.sagaID)", { dom in
                #expect(Self.count("<tr data-seq=", in: dom) == facts.sagaTimeline)
            }),
            ("kv", "kv", { dom in
                #expect(Self.count("<tr data-store=", in: dom) == facts.kvStores)
            }),
            ("views", "views", { dom in
                #expect(Self.count("<tr data-view=", in: dom) == facts.views)
            }),
            ("view", "views/\(facts.biggestView)?limit=20", { dom in
                #expect(Self.count("<tr class=\"row\"", in: dom) == min(facts.biggestViewRows, 20))
            }),
        ]
        for page in pages {
            let url = base + page.path
            let dom = try browser.dumpDOM(url)
            #expect(dom.contains("</html>"), "\(url): \(dom.prefix(300))")
            page.check(dom)
            let screenshot = artifacts.appendingPathComponent("\(page.name).png")
            try browser.screenshot(url, to: screenshot)
            #expect(FileManager.default.fileExists(atPath: screenshot.path), "no screenshot of \(url)")
            print("dashboard screenshot: \(screenshot.path)")
        }

        // SIGTERM: a graceful shutdown, exit status 0, within 5 seconds.
        server.terminate()
        let deadline = Date().addingTimeInterval(5)
        while server.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!server.isRunning, "runnel serve was still running 5 s after SIGTERM")
        if !server.isRunning {
            #expect(server.terminationReason == .exit && server.terminationStatus == 0)
        }
    }

    /// What the pages must show, read from the databases.
    struct Facts: Sendable {
        var runners = 0, servicesInWindow = 0, openTickets = 0, tickets = 0, ticketID = ""
        var sagaInstances = 0, sagaID = "", sagaTimeline = 0, kvStores = 0, views = 0, biggestView = "", biggestViewRows = 0
    }

    static func facts(_ home: DashboardHome) throws -> Facts {
        var facts = Facts()
        let status = try StatusReader(home: home.home, catalog: SampleCatalog.catalog).read()
        facts.runners = status.pipelines.count + status.handlers.count + status.sagas.count
        facts.kvStores = try KVStoreFolder.all(in: home.home).count
        try home.read(.derived) { db in
            let latest = try Int64.fetchOne(db, sql: "SELECT max(hour) FROM exception_ticket_hours WHERE count > 0") ?? 0
            facts.servicesInWindow = try Int.fetchOne(db, sql: """
                SELECT count(DISTINCT t.service) FROM exception_tickets t JOIN exception_ticket_hours h ON h.ticket_id = t.id
                WHERE h.hour BETWEEN ? AND ?
                """, arguments: [latest - 23 * 3_600_000, latest]) ?? 0
            facts.openTickets = try Int.fetchOne(db, sql: "SELECT count(*) FROM exception_tickets WHERE state = 'open'") ?? 0
            facts.tickets = try Int.fetchOne(db, sql: "SELECT count(*) FROM exception_tickets") ?? 0
            facts.ticketID = try String.fetchOne(db, sql: "SELECT id FROM exception_tickets ORDER BY id LIMIT 1") ?? ""
            let views = try String.fetchAll(db, sql: "SELECT view FROM runnel_view_owners ORDER BY view")
            facts.views = views.count
            for view in views {
                let rows = try Int.fetchOne(db, sql: "SELECT count(*) FROM \"\(view)\"") ?? 0
                if rows > facts.biggestViewRows { (facts.biggestView, facts.biggestViewRows) = (view, rows) }
            }
        }
        try home.read(.app) { db in
            facts.sagaInstances = try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_sagas") ?? 0
            facts.sagaID = try String.fetchOne(db, sql: "SELECT id FROM runnel_sagas ORDER BY id LIMIT 1") ?? ""
            facts.sagaTimeline = try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_saga_log WHERE saga_id = ?", arguments: [facts.sagaID]) ?? 0
        }
        return facts
    }

    /// `$RUNNEL_TEST_ARTIFACTS/dashboard`, else `.build/test-artifacts/dashboard` in the package.
    static func artifactsFolder(_ environment: [String: String]) -> URL {
        if let folder = environment["RUNNEL_TEST_ARTIFACTS"], !folder.isEmpty {
            return URL(fileURLWithPath: folder).appendingPathComponent("dashboard", isDirectory: true)
        }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return package.appendingPathComponent(".build/test-artifacts/dashboard", isDirectory: true)
    }

    /// Reads the server's standard output up to its `Dashboard: http://…/` line (nil if it ends first).
    static func dashboardURL(from output: FileHandle) -> String? {
        var text = ""
        while true {
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Dashboard: ") }) {
                return String(line.dropFirst("Dashboard: ".count))
            }
            guard let data = readChunk(output.fileDescriptor) else { return nil }
            text += String(decoding: data, as: UTF8.self)
        }
    }

    /// The next bytes from `descriptor`, or nil at end of file. Read with `read(2)`, retried when
    /// a signal interrupts it: Foundation's `FileHandle` traps on `EINTR`, and other tests in this
    /// process kill their children, whose SIGCHLD can land on this thread.
    static func readChunk(_ descriptor: Int32) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            return count > 0 ? Array(buffer[0..<count]) : nil
        }
    }

    static func count(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }
}

/// Headless Chromium, one process per page.
struct Browser: Sendable {
    let executable: String
    let profile: URL

    private var common: [String] {
        ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-proxy-server", "--user-data-dir=\(profile.path)", "--window-size=1280,2000"]
    }

    /// The DOM after the page loaded, serialised.
    func dumpDOM(_ url: String) throws -> String {
        String(decoding: try run(common + ["--dump-dom", url]), as: UTF8.self)
    }

    /// Saves a PNG of the page.
    func screenshot(_ url: String, to file: URL) throws {
        try? FileManager.default.removeItem(at: file)
        _ = try run(common + ["--screenshot=\(file.path)", url])
    }

    private func run(_ arguments: [String]) throws -> Data {
        let output = Pipe()
        let process = try ChildProcess.launch(arguments, executable: URL(fileURLWithPath: executable), standardOutput: output)
        var data = Data()
        while let chunk = DashboardBrowserTests.readChunk(output.fileHandleForReading.fileDescriptor) { data.append(contentsOf: chunk) }
        process.waitUntilExit()
        return data
    }
}
