import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

@Suite struct PipelineRunnerTests {
    @Test func lagIsRecordedInEventsAndEventTimeWithEveryCommit() throws {
        let driver = try PipelineTestDriver(clicksPerUser, batchSize: 2)
        for id in 0..<5 { try driver.click(Int64(id), user: 1, at: Int64(id) * 1_000) }
        try driver.runBatch()
        let status = try driver.rows("runnel_pipelines").first
        #expect(int(status?["lag_events"]) == 3)
        #expect(int(status?["lag_ms"]) == 3_000)
        #expect(int(status?["events_in"]) == 2)
        try driver.run()
        let caughtUp = try driver.rows("runnel_pipelines").first
        #expect(int(caughtUp?["lag_events"]) == 0)
        #expect(int(caughtUp?["lag_ms"]) == 0)
        let offsets = try driver.rows("runnel_pipeline_offsets")
        #expect(offsets.map { int($0["next_offset"]) } == [5])
        #expect(offsets.map { int($0["max_event_time"]) } == [4_000])
    }

    @Test func aRestartReplaysAnUncommittedBatchExactlyOnce() throws {
        let driver = try PipelineTestDriver(clicksPerUser, batchSize: 3)
        for id in 0..<7 { try driver.click(Int64(id), user: id % 2 == 0 ? 1 : 2, at: Int64(id)) }
        try driver.runBatch()
        try driver.discardUncommittedBatch()
        try driver.discardUncommittedBatch()
        try driver.run()
        let rows = try driver.rows("clicks_per_user", orderBy: "user_id")
        #expect(rows.map { int($0["clicks"]) } == [4, 3])
    }

    @Test func aFailedCommitNamesTheDatabaseAndThePipelineAndWritesNothing() throws {
        let driver = try PipelineTestDriver(clicksPerUser)
        try driver.click(1, user: 1, at: 0)
        try driver.run()
        try driver.click(2, user: 1, at: 1)
        // SQLite fails inside the batch's transaction: its view went from under the runner.
        try driver.store.derived.write { try $0.execute(sql: "DROP TABLE clicks_per_user") }
        let error = #expect(throws: RunnelError.self) { try driver.run() }
        #expect(error?.code == .database)
        #expect(error?.message.hasPrefix("SQLite failed on \(driver.store.derived.path) while committing a batch of pipeline counts") == true, "\(String(describing: error))")
        #expect(try driver.rows("runnel_pipeline_offsets").map { int($0["next_offset"]) } == [1], "the batch rolled back")
    }

    @Test func aReadViewCannotTakeOverATableNoPipelineOwns() throws {
        let driver = try PipelineTestDriver(clicksPerUser)
        try driver.store.derived.write { try $0.execute(sql: "CREATE TABLE clicks_per_user (x INTEGER)") }
        let error = #expect(throws: RunnelError.self) { try driver.run() }
        #expect(error?.description.contains("no pipeline owns") == true)
    }

    @Test func twoPipelinesCannotWriteOneView() throws {
        let driver = try PipelineTestDriver(clicksPerUser)
        try driver.click(1, user: 1, at: 0)
        try driver.run()
        let other = Pipeline("other", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId)
                .aggregate { Count("clicks") }
                .into(ReadView("clicks_per_user", primaryKey: ["user_id"]))
        }
        try driver.replace(with: other)
        let error = #expect(throws: RunnelError.self) { try driver.run() }
        #expect(error?.description.contains("already written by pipeline counts") == true)
    }
}
