import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

/// A `Reduce` state survives its save and reload, whatever Double values it holds.
@Suite struct ReduceStateTests {
    struct Ratio: Codable {
        var total = 0.0
        var events: Int64 = 0
    }

    @Test func aStateHoldingNaNAndInfinityReloadsAfterARestart() throws {
        let pipeline = Pipeline("ratios", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId)
                .aggregate {
                    // A dwell of 0 makes the total NaN for user 1 and infinite for user 2.
                    Reduce("events", initial: Ratio(), { ratio, click in
                        ratio.events += 1
                        ratio.total += click.dwellMs == 0 ? (click.userId == 1 ? .nan : .infinity) : Double(click.dwellMs)
                    }, result: { $0.events })
                }
                .into(ReadView("ratios", primaryKey: ["user_id"]))
        }
        let driver = try PipelineTestDriver(pipeline)
        try driver.click(1, user: 1, at: 0, dwell: 0)
        try driver.click(2, user: 2, at: 0, dwell: 0)
        try driver.run()
        driver.restart() // the states reload from SQLite
        try driver.click(3, user: 1, at: 1, dwell: 5)
        try driver.click(4, user: 2, at: 1, dwell: 5)
        try driver.run()
        let rows = try driver.rows("ratios", orderBy: "user_id").map { [int($0["user_id"]), int($0["events"])] }
        #expect(rows == [[1, 2], [2, 2]])
    }

    /// A state whose encoding fails once it holds a negative count.
    struct Picky: Codable {
        var events: Int64 = 0
        func encode(to encoder: any Encoder) throws {
            guard events >= 0 else { throw EncodingError.invalidValue(events, .init(codingPath: [], debugDescription: "a negative count")) }
            var container = encoder.singleValueContainer()
            try container.encode(events)
        }
    }

    @Test func aStateThatCannotBeSavedFailsTheBatchInsteadOfSavingNothing() throws {
        let pipeline = Pipeline("picky", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId)
                .aggregate {
                    Reduce("events", initial: Picky(), { state, click in state.events += click.dwellMs < 0 ? -10 : 1 }, result: { $0.events })
                }
                .into(ReadView("picky", primaryKey: ["user_id"]))
        }
        let driver = try PipelineTestDriver(pipeline)
        try driver.click(1, user: 1, at: 0)
        try driver.run()
        try driver.click(2, user: 1, at: 1, dwell: -1)
        let error = try #require(throws: RunnelError.self) { try driver.run() }
        #expect(error.message.contains("a Reduce state of type Picky cannot be saved as JSON"), "\(error)")
        // Nothing of the failed batch was committed: the offset and the view are as before it.
        #expect(try driver.rows("runnel_pipeline_offsets").first.flatMap { int($0["next_offset"]) } == 1)
        #expect(try driver.rows("picky").map { int($0["events"]) } == [1])
    }
}
