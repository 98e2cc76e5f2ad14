import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting
import Testing

@Suite struct PipelineCommandTests {
    @Test func runShowsDeadLettersThroughInspectAndPipelinesShowsLag() async throws {
        let temporary = try TemporaryHome()
        let home = temporary.home.url.path
        #expect(await runnel("demo", "--home", home).status == 0)

        // A record the engagement pipeline cannot decode, then a good one after it.
        let log = try Log.open(temporary.home.logURL)
        let topic = try #require(try log.topic("member-activity"))
        let good = try #require(try topic.partitions[0].read(from: 0).first)
        let badOffset = try topic.partitions[0].append([
            LogRecord(timestamp: good.timestamp, key: good.key, value: Array(#"{"activityId": "oops"}"#.utf8), headers: [RecordHeader("type", "ActivityRecorded")]),
        ])
        try log.close()

        // The lag is counted against the log as it is now, not as of the last commit (0).
        let listed = await runnel("pipelines", "--format", "json", "--home", home)
        let engagement = try #require(listed.outputLines.first { $0.contains("member-engagement-5m") })
        #expect(engagement.contains(#""state":"ok""#))
        let before = try JSONSerialization.jsonObject(with: Data(engagement.utf8)) as? [String: Any]
        #expect(before?["lag_events"] as? Int == 1)

        let run = await runnel("run", "member-engagement-5m", "--home", home)
        #expect(run.status == 0, "\(run.error)")
        // Whole-line match: a substring test for "1 records" would also pass on "11 records".
        let summary = try #require(run.outputLines.first { $0.hasPrefix("member-engagement-5m v") }, "\(run.output)")
        #expect(summary.wholeMatch(of: /member-engagement-5m v\d+: 1 records in 1 batches \([^)]*\); 1 to runnel_pipeline_dead_letters\./) != nil, "\(summary)")

        let letters = await runnel("inspect", "table", "runnel_pipeline_dead_letters", "--db", "derived", "--format", "json", "--home", home)
        #expect(letters.outputLines.count == 1)
        let letter = try JSONSerialization.jsonObject(with: Data(letters.outputLines[0].utf8)) as? [String: Any]
        #expect(letter?["topic"] as? String == "member-activity")
        #expect(letter?["offset"] as? Int == Int(badOffset))
        #expect((letter?["error"] as? String)?.contains("activityId") == true)
    }

    @Test func runNeedsNamesOrAllAndKnowsTheCatalog() async throws {
        let temporary = try TemporaryHome()
        let home = temporary.home.url.path
        #expect(await runnel("run", "--home", home).status == 64)
        let unknown = await runnel("run", "no-such-pipeline", "--home", home)
        #expect(unknown.status == 1)
        #expect(unknown.error.contains("member-engagement-5m"))
        let listed = await runnel("pipelines", "--home", home)
        #expect(listed.output.contains("not run"))
    }
}

/// `runnel pipelines` tells the truth about a rebuild that was cut off: every pipeline the
/// rebuild dropped shows as rebuilding, with its progress and real lag, until a run has read
/// the log to its end.
@Suite struct AnInterruptedRebuildShowsAsRebuilding {
    static func listed(_ home: String) async throws -> [String: [String: Any]] {
        let listed = await runnel("pipelines", "--format", "json", "--home", home)
        #expect(listed.status == 0, "\(listed.error)")
        var byName: [String: [String: Any]] = [:]
        for line in listed.outputLines {
            let row = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            byName[try #require(row["name"] as? String)] = row
        }
        return byName
    }

    static func viewCounts(_ store: Store) throws -> [String: Int] {
        try store.derived.read { db in
            var counts: [String: Int] = [:]
            for view in ["member_profiles", "member_engagement_5m", "profile_views_by_industry_1h", "member_sessions"] {
                counts[view] = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(view)")
            }
            return counts
        }
    }

    @Test func untilARunReachesTheLogsEnd() async throws {
        let temporary = try TemporaryHome(label: "rebuild-status")
        let store = try temporary.openStoreWithSampleData(SampleCatalog.catalog)
        let home = temporary.home.url.path
        for pipeline in SampleCatalog.catalog.pipelines { _ = try PipelineRunner(pipeline: pipeline, store: store).runToEnd() }
        let built = try Self.viewCounts(store)
        #expect(try await Self.listed(home).values.allSatisfy { $0["state"] as? String == "ok" })

        // A rebuild of everything, in small batches, stopped by SIGTERM once it has committed some.
        let errors = temporary.folder.appendingPathComponent("rebuild.err")
        let child = try ChildProcess.launch(["run", "--all", "--rebuild", "--batch-size", "2", "--home", home], standardErrorTo: errors)
        let deadline = Date().addingTimeInterval(60)
        func replayed() throws -> Int {
            try store.derived.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_pipelines WHERE rebuild_started_at IS NOT NULL AND events_in > 0") ?? 0 }
        }
        while try replayed() == 0, child.isRunning, Date() < deadline { usleep(10_000) }
        kill(child.processIdentifier, SIGTERM)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal, "the rebuild finished before it was stopped: \(ChildProcess.text(of: errors))")

        let interrupted = try await Self.listed(home)
        #expect(interrupted.count == SampleCatalog.catalog.pipelines.count)
        for (name, row) in interrupted {
            let state = row["state"] as? String ?? ""
            #expect(state.hasPrefix("rebuilding ("), "\(name): \(state)")
            #expect((row["lag_events"] as? Int ?? 0) > 0, "\(name) has records left to replay: \(row)")
        }
        #expect(interrupted.values.contains { ($0["events_in"] as? Int ?? 0) > 0 && !(($0["state"] as? String ?? "").hasPrefix("rebuilding (0/")) },
                "one pipeline shows the progress it made")

        // A plain run goes on with the replay and completes it.
        let run = await runnel("run", "--all", "--home", home)
        #expect(run.status == 0, "\(run.error)")
        for (name, row) in try await Self.listed(home) {
            #expect(row["state"] as? String == "ok", "\(name): \(row)")
            #expect(row["lag_events"] as? Int == 0, "\(name): \(row)")
        }
        #expect(try Self.viewCounts(store) == built)
    }
}
