import Foundation
import GRDB
@testable import Runnel
import RunnelTesting
import Testing

/// A column read from a window's rows that they do not have is never a silent NULL: the row
/// goes to the dead-letter table naming the column and the columns the row has.
@Suite struct RowColumnTests {
    struct Busy: Codable, Sendable {
        var userId: Int64
        var clicks: Int64
    }

    private func counted(_ column: String) -> Pipeline {
        Pipeline("busy", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId)
                .aggregate { Count("clicks") }
                .filter { ($0[column, as: Int64.self] ?? 0) >= 0 }
                .map { Busy(userId: $0["user_id", as: Int64.self] ?? -1, clicks: $0["clicks", as: Int64.self] ?? 0) }
                .into(ReadView("busy", primaryKey: ["user_id"]) {
                    ViewColumn("user_id", \.userId)
                    ViewColumn("clicks", \.clicks)
                })
        }
    }

    @Test func aMisspelledColumnSendsTheRowToDeadLettersNamingTheColumnsThereAre() throws {
        let driver = try PipelineTestDriver(counted("clickz"))
        try driver.click(1, user: 7, at: 0)
        try driver.run()
        #expect(try driver.rows("busy").isEmpty)
        let letter = try #require(try driver.deadLetters().first)
        #expect(text(letter["error"]) == #"filter read column "clickz", which the row does not have; it has user_id, clicks"#)
        #expect(text(letter["value"]) == #"{"user_id":7,"clicks":1}"#)
        #expect(text(letter["key"]) == "7")
    }

    @Test func theRightNameWritesTheRow() throws {
        let driver = try PipelineTestDriver(counted("clicks"))
        try driver.click(1, user: 7, at: 0)
        try driver.run()
        #expect(try driver.rows("busy").map { int($0["clicks"]) } == [1])
        #expect(try driver.deadLetters().isEmpty)
    }

    @Test func aViewColumnDrawnFromAMissingColumnIsADeadLetterToo() throws {
        let pipeline = Pipeline("busy-view", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId)
                .aggregate { Count("clicks") }
                .into(ReadView<ViewRow>("busy_view", primaryKey: ["user_id"]) {
                    ViewColumn("user_id") { $0["user_id", as: Int64.self] ?? -1 }
                    ViewColumn("total") { $0["total", as: Int64.self] ?? 0 }
                })
        }
        let driver = try PipelineTestDriver(pipeline)
        try driver.click(1, user: 7, at: 0)
        try driver.run()
        #expect(try driver.rows("busy_view").isEmpty)
        #expect(text(try driver.deadLetters().first?["error"]) == #"read view busy_view read column "total", which the row does not have; it has user_id, clicks"#)
    }

    @Test func aTopicKeyOrKVEntryDrawnFromAMissingColumnIsADeadLetter() throws {
        let pipeline = Pipeline("busy-sinks", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId)
                .aggregate { Count("clicks") }
                .into(Topic("busy-users", type: "BusyUser") { "\($0["userid", as: Int64.self] ?? 0)" })
        }
        let driver = try PipelineTestDriver(pipeline)
        try driver.click(1, user: 7, at: 0)
        try driver.run()
        #expect(text(try driver.deadLetters().first?["error"]) == #"topic busy-users read column "userid", which the row does not have; it has user_id, clicks"#)
        #expect(try driver.store.derived.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") } == 0)
    }
}
