import AsyncHTTPClient
import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting
import Testing

/// `runnel up` with its dashboard, as a real child process: `/metrics` scrapes and parses with
/// figures equal to the home's, and `/api/status` answers a bounded loop of concurrent requests
/// without an error while the daemon follows 10K events/s.
@Suite struct UpDashboardTests {
    /// A child `runnel up --port 0` and the port its dashboard reported.
    private struct Daemon {
        let process: Process
        let port: Int
        let log: URL
    }

    private static func start(home: String, in folder: URL, extra: [String] = []) throws -> Daemon {
        let output = Pipe()
        let log = folder.appendingPathComponent("up.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = ChildProcess.runnel
        process.arguments = ["up", "--port", "0", "--home", home] + extra
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        // `Dashboard: http://127.0.0.1:PORT/` on standard output once it listens.
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, process.isRunning {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Dashboard: http://127.0.0.1:") }),
               let port = Int(line.dropFirst("Dashboard: http://127.0.0.1:".count).prefix { $0.isNumber }) {
                return Daemon(process: process, port: port, log: log)
            }
        }
        kill(process.processIdentifier, SIGKILL)
        throw RunnelError(.io, "runnel up did not report its dashboard: \(text) \(ChildProcess.text(of: log))")
    }

    private static func get(_ client: HTTPClient, _ url: String) async throws -> (status: UInt, body: String) {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 32 << 20)
        return (response.status.code, String(buffer: body))
    }

    @Test func metricsScrapeAndParseWithTheHomesFigures() async throws {
        let temporary = try TemporaryHome(label: "up-metrics")
        // Loaded, not relayed: the daemon's relay carries every row, so its counter counts them all.
        let store = try temporary.openStore(migrations: SampleCatalog.catalog.migrations)
        _ = try SampleLoader(dataset: try #require(SampleCatalog.catalog.sampleData)).loadDefault(into: store)
        let daemon = try Self.start(home: temporary.home.url.path, in: temporary.folder, extra: ["--only", "relay,pipelines,dashboard"])
        defer { if daemon.process.isRunning { kill(daemon.process.processIdentifier, SIGKILL) } }
        let client = HTTPClient.shared
        let base = "http://127.0.0.1:\(daemon.port)"

        // Wait until everything is relayed, every pipeline is at the log's end, and the metrics
        // have caught up with the commits (a runner counts a batch just after its commit, so a
        // scrape right after a status read can miss the last one on a loaded machine).
        let deadline = Date().addingTimeInterval(120)
        var status: [String: Any] = [:]
        var samples = try PrometheusText("")
        var records: Int64 = -1
        var settled = false
        while Date() < deadline {
            let answer = try await Self.get(client, base + "/api/status")
            #expect(answer.status == 200)
            status = try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
            let backlog = (status["databases"] as? [[String: Any]])?.reduce(0) { $0 + ($1["outbox_backlog"] as? Int ?? 1) } ?? 1
            let lag = (status["pipelines"] as? [[String: Any]])?.reduce(0) { $0 + ($1["lag_events"] as? Int ?? 1) } ?? 1
            let started = (status["pipelines"] as? [[String: Any]])?.allSatisfy { ($0["records"] as? Int ?? 0) > 0 } ?? false
            if backlog == 0, lag == 0, started {
                let scrape = try await Self.get(client, base + "/metrics")
                #expect(scrape.status == 200)
                samples = try PrometheusText(scrape.body)
                let logged = try Log.openForReading(temporary.home.logURL)
                records = try logged.topicNames.reduce(Int64(0)) { total, name in
                    total + (try logged.topic(name)?.partitions.reduce(Int64(0)) { $0 + $1.endOffset } ?? 0)
                }
                let pipelines = status["pipelines"] as? [[String: Any]] ?? []
                if samples.value("runnel_relay_rows_total") == Double(records), pipelines.allSatisfy({ pipeline in
                    samples.value("runnel_pipeline_records_total", ["pipeline": pipeline["name"] as? String ?? ""]) == Double(pipeline["records"] as? Int ?? -1)
                }) {
                    settled = true
                    break
                }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(settled, "the daemon did not reach the log's end with its metrics caught up within 120 s")
        #expect(samples.value("runnel_relay_rows_total") == Double(records))
        for pipeline in try #require(status["pipelines"] as? [[String: Any]]) {
            let name = try #require(pipeline["name"] as? String)
            #expect(samples.value("runnel_pipeline_records_total", ["pipeline": name]) == Double(pipeline["records"] as? Int ?? -1), "\(name)")
            #expect(samples.value("runnel_pipeline_lag_events", ["pipeline": name]) == 0, "\(name)")
        }
        #expect(Self.stop(daemon.process))
    }

    @Test func statusAnswersEveryRequestWhileFollowingTenThousandEventsASecond() async throws {
        let temporary = try TemporaryHome(label: "up-load")
        let store = try temporary.openStore(migrations: SampleCatalog.catalog.migrations)
        let daemon = try Self.start(home: temporary.home.url.path, in: temporary.folder, extra: ["--only", "relay,pipelines,dashboard"])
        defer { if daemon.process.isRunning { kill(daemon.process.processIdentifier, SIGKILL) } }
        let client = HTTPClient.shared
        let url = "http://127.0.0.1:\(daemon.port)/api/status"

        // The writer: 10 profile views per transaction, one transaction a millisecond, for 3 s.
        let writer = Task.detached {
            let start = ContinuousClock.now
            for tick in 0..<3_000 {
                try await store.app.write { db in
                    for index in 0..<10 {
                        let id = Int64(tick * 10 + index)
                        _ = try store.outbox.append(OutboxEvent(topic: NetworkTopic.profileViews, key: "\(id % 97)", type: "ProfileViewed",
                                                                payload: ProfileViewed(viewId: id, viewerId: id % 89, viewedId: id % 97, occurredAt: Date()),
                                                                eventTime: Date()), in: db)
                    }
                }
                let due = start + .milliseconds(tick + 1)
                if ContinuousClock.now < due { try await Task.sleep(until: due, clock: .continuous) }
            }
            return ContinuousClock.now - start
        }
        // The clients: a bounded loop, 4 at once, 150 requests each.
        let results = try await withThrowingTaskGroup(of: [(UInt, Duration)].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var results: [(UInt, Duration)] = []
                    for _ in 0..<150 {
                        let start = ContinuousClock.now
                        let answer = try await Self.get(client, url)
                        results.append((answer.status, ContinuousClock.now - start))
                    }
                    return results
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let wrote = try await writer.value
        #expect(results.count == 600)
        #expect(results.allSatisfy { $0.0 == 200 }, "\(results.filter { $0.0 != 200 }.prefix(3))")
        let sorted = results.map(\.1).sorted()
        let p99 = sorted[sorted.count * 99 / 100]
        // Reported, not asserted: timings belong to runnel-bench (`runnel-bench dashboard`).
        print("UpDashboardTests: /api/status p50 \(sorted[sorted.count / 2]), p99 \(p99), max \(sorted.last!) over \(results.count) requests "
            + "while writing 30,000 events in \(wrote) (debug build)")
        #expect(Self.stop(daemon.process), "\(ChildProcess.text(of: daemon.log))")
        // Nothing lost: every event written reached the log.
        let log = try Log.openForReading(temporary.home.logURL)
        let pending = try await store.app.read { try Int64.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") ?? 0 }
        let appended = try log.topic(NetworkTopic.profileViews)?.partitions.reduce(Int64(0)) { $0 + $1.endOffset } ?? 0
        #expect(appended + pending == 30_000)
    }

    private static func stop(_ process: Process) -> Bool {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        return process.terminationReason == .exit && process.terminationStatus == 0
    }
}
