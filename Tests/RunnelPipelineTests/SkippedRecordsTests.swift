import Foundation
import GRDB
@testable import Runnel
import RunnelTesting
import Testing

/// Records no source takes are counted by type, stored with each commit, shown by
/// `runnel pipelines`, and a source that took nothing in a run is reported: a wrong type
/// string is never silent.
@Suite struct SkippedRecordsTests {
    /// Counts clicks, but its source names a type nothing has.
    private let misspelled = Pipeline("misspelled", version: 1, description: "test") {
        Source("clicks", as: Click.self, type: "Clik", time: \.at)
            .keyBy("user_id", \.userId)
            .aggregate { Count("clicks") }
            .into(ReadView("misspelled_counts", primaryKey: ["user_id"]))
    }

    @Test func aTypeStringThatMatchesNothingIsCountedStoredAndReported() throws {
        let driver = try PipelineTestDriver(misspelled)
        for id in 0..<3 { try driver.click(Int64(id), user: 1, at: Int64(id)) }
        try driver.sendBytes(nil, to: "clicks", key: "1", type: "Clik", at: ms(5))   // a tombstone of the wanted type
        let summary = try driver.run()
        #expect(summary.records == 4)
        #expect(summary.skipped == 4)
        #expect(summary.skippedByType == ["Click": 3, PipelineRunner.tombstoneType: 1])
        #expect(summary.idleSources == [PipelineRunner.SourceDescription(topic: "clicks", type: "Clik")])
        #expect(summary.idleSources.first?.description == #"Source("clicks", type: "Clik")"#)

        let stored = try driver.rows("runnel_pipeline_skipped_types", orderBy: "type").map { [text($0["type"]), int($0["records"]).map(String.init)] }
        #expect(stored == [[PipelineRunner.tombstoneType, "1"], ["Click", "3"]])
        try driver.click(9, user: 2, at: 9)
        try driver.run()
        let status = try #require(try PipelineStatus.read([misspelled], from: driver.store.derived, log: nil).first)
        #expect(status.skippedByType == ["Click": 4, PipelineRunner.tombstoneType: 1])

        // A rebuild starts the count again.
        try driver.replace(with: misspelled, rebuild: true)
        #expect(try driver.rows("runnel_pipeline_skipped_types").isEmpty)
    }

    @Test func aRecordOneSourceTakesIsNotSkippedBecauseAnotherPassesItOver() throws {
        let pipeline = Pipeline("two-sources", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId).aggregate { Count("clicks") }
                .into(ReadView("two_clicks", primaryKey: ["user_id"]))
            Source("clicks", as: Click.self, type: "BotClick", time: \.at)
                .keyBy("user_id", \.userId).aggregate { Count("bots") }
                .into(ReadView("two_bots", primaryKey: ["user_id"]))
        }
        let driver = try PipelineTestDriver(pipeline)
        for id in 0..<4 { try driver.click(Int64(id), user: 1, at: Int64(id)) }
        try driver.send(Click(clickId: 9, userId: 1, page: "/", dwellMs: 1, at: ms(9)), to: "clicks", key: "1", type: "BotClick", at: ms(9))
        try driver.send(Click(clickId: 10, userId: 1, page: "/", dwellMs: 1, at: ms(10)), to: "clicks", key: "1", type: "Scroll", at: ms(10))
        let summary = try driver.run()
        #expect(summary.skipped == 1)
        #expect(summary.skippedByType == ["Scroll": 1])
        #expect(summary.idleSources.isEmpty)
    }
}
