import Foundation
import GRDB
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

        let listed = await runnel("pipelines", "--format", "json", "--home", home)
        let engagement = try #require(listed.outputLines.first { $0.contains("member-engagement-5m") })
        #expect(engagement.contains(#""state":"ok""#))
        let before = try JSONSerialization.jsonObject(with: Data(engagement.utf8)) as? [String: Any]
        #expect(before?["lag_events"] as? Int == 0)

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
