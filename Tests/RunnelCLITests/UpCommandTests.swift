import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting
import Testing

/// `runnel up` as a real child process: a failing service is restarted with backoff while the
/// rest go on, and SIGTERM in the middle of a load stops everything cleanly without losing or
/// doubling a record.
@Suite struct UpCommandTests {
    /// One JSON log line of the child.
    private static func logLines(_ file: URL) -> [[String: Any]] {
        ChildProcess.text(of: file).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    private static func run(_ arguments: [String], executable: URL = ChildProcess.runnel) throws -> (status: Int32, output: String) {
        let output = Pipe()
        let process = try ChildProcess.launch(arguments, executable: executable, standardOutput: output, standardError: output)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    private static func wait(until deadline: Date, _ condition: () throws -> Bool) rethrows -> Bool {
        while Date() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return try condition()
    }

    /// Stops a child with SIGTERM and says how long it took and how it ended.
    private static func stop(_ process: Process) -> (took: Duration, cleanly: Bool) {
        let start = ContinuousClock.now
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        return (ContinuousClock.now - start, process.terminationReason == .exit && process.terminationStatus == 0)
    }

    @Test func aFailingPipelineIsRestartedWithBackoffWhileTheOthersGoOn() throws {
        let temporary = try TemporaryHome(label: "up-poison")
        let home = temporary.home.url.path
        let child = ChildProcess.faultChild
        #expect(try Self.run(["migrate", "--home", home], executable: child).status == 0)
        #expect(try Self.run(["sample", "load", "--home", home], executable: child).status == 0)
        let log = temporary.folder.appendingPathComponent("up.log")
        let up = try ChildProcess.launch(["up", "--only", "relay,pipelines", "--restart-delay", "0.05", "--max-restart-delay", "0.4",
                                          "--log-format", "json", "--home", home],
                                         executable: child, standardErrorTo: log)
        defer { if up.isRunning { kill(up.processIdentifier, SIGKILL) } }
        let store = try Store.open(temporary.home)
        func eventsIn(_ pipeline: String) throws -> Int64? {
            try store.derived.read { db in
                guard try db.tableExists("runnel_pipelines") else { return nil }
                return try Int64.fetchOne(db, sql: "SELECT events_in FROM runnel_pipelines WHERE name = ?", arguments: [pipeline])
            }
        }
        let views = try store.app.read { try Int64.fetchOne($0, sql: "SELECT count(*) FROM profile_views") ?? 0 }
        try #require(views > 0)
        // The others reach the end of the log while poison-probe fails batch after batch.
        let caughtUp = try Self.wait(until: Date().addingTimeInterval(60)) {
            try eventsIn("profile-views-by-industry-1h") == views && eventsIn("member-sessions") ?? 0 > 0
        }
        #expect(caughtUp)
        _ = Self.wait(until: Date().addingTimeInterval(10)) {
            Self.failures(in: log).count >= 5
        }
        let failures = Self.failures(in: log)
        #expect(failures.count >= 5, "\(ChildProcess.text(of: log))")
        #expect((try eventsIn("poison-probe") ?? 0) == 0)
        // The delays double from 50 ms and stop at the 400 ms cap.
        #expect(Array(failures.prefix(5)) == ["50", "100", "200", "400", "400"], "\(failures)")
        #expect(Self.logLines(log).contains { ($0["message"] as? String)?.contains("no such table: poison_gate") == true
                || (($0["metadata"] as? [String: Any])?["error"] as? String)?.contains("no such table: poison_gate") == true })

        // Once it can, the failing pipeline catches up, in the same process.
        try store.app.write { try $0.execute(sql: "CREATE TABLE poison_gate (id INTEGER PRIMARY KEY)") }
        #expect(try Self.wait(until: Date().addingTimeInterval(30)) { try eventsIn("poison-probe") == views })
        let viewed = try store.derived.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM poison_probe_views") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(DISTINCT viewed_id) FROM profile_views_by_industry_1h") ?? -1)
        }
        #expect(viewed.0 == viewed.1 && viewed.0 > 0)

        let stopped = Self.stop(up)
        #expect(stopped.cleanly, "\(ChildProcess.text(of: log))")
        #expect(stopped.took < .seconds(5), "stopping took \(stopped.took)")
    }

    /// The restart delays logged for poison-probe, in milliseconds, in order.
    private static func failures(in log: URL) -> [String] {
        logLines(log).compactMap { line -> String? in
            guard line["message"] as? String == "service failed; restarting after a backoff",
                  let metadata = line["metadata"] as? [String: Any], metadata["service"] as? String == "pipeline poison-probe" else { return nil }
            return metadata["service.restart.delay_ms"] as? String
        }
    }

    @Test func sigtermInTheMiddleOfALoadLosesNothing() throws {
        let schedule = CrashSchedule(defaultSeed: 20_261_207, defaultRounds: 3)
        var random = schedule.random
        let temporary = try TemporaryHome(label: "up-sigterm")
        let data = temporary.folder.appendingPathComponent("network.jsonl")
        #expect(try Self.run(["sample", "generate", "--members", "300", "--hours", "8", "--seed", "5", "--output", data.path]).status == 0)

        // The same data, loaded and processed without interruption.
        let clean = temporary.folder.appendingPathComponent("clean").path
        for step in [["migrate"], ["sample", "load", "--file", data.path], ["relay"], ["run", "--all"]] {
            let result = try Self.run(step + ["--home", clean])
            try #require(result.status == 0, "\(step): \(result.output)")
        }
        let expected = try Self.views(in: RunnelHome(URL(fileURLWithPath: clean)))
        try #require(expected.values.contains { !$0.isEmpty })

        var stoppedMidLoad = 0
        for round in 0..<schedule.rounds {
            let home = temporary.folder.appendingPathComponent("round-\(round)").path
            #expect(try Self.run(["migrate", "--home", home]).status == 0)
            let log = temporary.folder.appendingPathComponent("round-\(round).log")
            let up = try ChildProcess.launch(["up", "--only", "relay,pipelines", "--home", home], standardErrorTo: log)
            defer { if up.isRunning { kill(up.processIdentifier, SIGKILL) } }
            let load = try ChildProcess.launch(["sample", "load", "--file", data.path, "--home", home])
            usleep(UInt32.random(in: 100_000...900_000, using: &random))
            // Looked at as the signal goes: the stop itself takes a moment, in which the load may end.
            if load.isRunning { stoppedMidLoad += 1 }
            let stopped = Self.stop(up)
            #expect(stopped.cleanly, "seed \(schedule.seed) round \(round): \(ChildProcess.text(of: log))")
            #expect(stopped.took < .seconds(5), "seed \(schedule.seed) round \(round): stopping took \(stopped.took)")
            load.waitUntilExit()
            #expect(load.terminationStatus == 0)
            // Finish what the stop left: the rest of the outbox, the rest of the log.
            for step in [["relay"], ["run", "--all"]] {
                let result = try Self.run(step + ["--home", home])
                #expect(result.status == 0, "seed \(schedule.seed) round \(round) \(step): \(result.output)")
            }
            let views = try Self.views(in: RunnelHome(URL(fileURLWithPath: home)))
            for (view, rows) in expected {
                #expect(views[view] == rows, "seed \(schedule.seed) round \(round): view \(view) differs from a clean run")
            }
        }
        // The stops must have landed while events were still being written, or this proved nothing.
        #expect(stoppedMidLoad > 0, "seed \(schedule.seed): every stop came after the load had finished")
    }

    @Test func aHomeWhoseLogAnotherRelayWritesIsRefusedWhole() throws {
        let temporary = try TemporaryHome(label: "up-refused")
        let home = temporary.home.url.path
        #expect(try Self.run(["migrate", "--home", home]).status == 0)
        let relay = try ChildProcess.launch(["relay", "--follow", "--home", home], standardErrorTo: temporary.folder.appendingPathComponent("relay.log"))
        defer { if relay.isRunning { kill(relay.processIdentifier, SIGKILL) } }
        let lock = temporary.home.logURL.appendingPathComponent(".lock")
        #expect(Self.wait(until: Date().addingTimeInterval(30)) { RunnerLock.holder(of: lock) == relay.processIdentifier })

        let log = temporary.folder.appendingPathComponent("up.log")
        let up = try ChildProcess.launch(["up", "--port", "0", "--home", home], standardErrorTo: log)
        defer { if up.isRunning { kill(up.processIdentifier, SIGKILL) } }
        #expect(Self.wait(until: Date().addingTimeInterval(30)) { !up.isRunning }, "runnel up did not refuse: \(ChildProcess.text(of: log))")
        #expect(up.terminationStatus == 1)
        #expect(ChildProcess.text(of: log).contains("is already written by another process (pid \(relay.processIdentifier)), a relay"), "\(ChildProcess.text(of: log))")
        // Nothing was started: no runner's lock file but the other relay's own names it.
        let locks = (try? FileManager.default.contentsOfDirectory(atPath: temporary.home.url.appendingPathComponent("locks").path)) ?? []
        #expect(locks.filter { $0 != "relay-outbox.lock" }.isEmpty, "\(locks)")
        #expect(Self.stop(relay).cleanly)
    }

    /// Every read view's rows, sorted, as text.
    private static func views(in home: RunnelHome) throws -> [String: [String]] {
        let derived = try Store.openReadOnly(home, .derived)
        return try derived.read { db in
            var views: [String: [String]] = [:]
            for view in try String.fetchAll(db, sql: "SELECT view FROM runnel_view_owners ORDER BY view") {
                views[view] = try Row.fetchAll(db, sql: "SELECT * FROM \"\(view)\"").map { "\($0)" }.sorted()
            }
            return views
        }
    }
}
