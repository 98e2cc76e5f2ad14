import Foundation
import GRDB
@testable import Runnel
import RunnelTesting
import Testing

/// A pipeline whose structure changed without a new version is refused like a version
/// mismatch, saying what changed: its old rows would sit beside rows of the new shape.
@Suite struct PipelineShapeTests {
    private func hourly(_ hours: Int64, version: Int = 1, lateness: TimeSpan = .minutes(1)) -> Pipeline {
        Pipeline("clicks-hourly", version: version, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId)
                .window(.tumbling(.hours(hours)), lateness: lateness) { Count("clicks") }
                .into(ReadView("clicks_hourly", primaryKey: ["user_id", "window_start"]))
        }
    }

    @Test func aWindowMadeLongerAtTheSameVersionIsRefusedNamingTheChange() throws {
        let driver = try PipelineTestDriver(hourly(1))
        try driver.click(1, user: 1, at: 0)
        try driver.run()
        let shape = try #require(try driver.rows("runnel_pipelines").first.flatMap { text($0["shape"]) })
        #expect(shape.contains("tumbling window 3600000 ms"))
        #expect(shape.contains("view clicks_hourly mode upsert key [user_id, window_start]"))

        // Unchanged, a restart goes on.
        driver.restart()
        try driver.click(2, user: 1, at: 1)
        try driver.run()

        try driver.replace(with: hourly(2))
        let error = try #require(throws: RunnelError.self) { try driver.run() }
        #expect(error.code == .pipelineVersion)
        #expect(error.message.contains("pipeline clicks-hourly changed since its views and state in derived.sqlite were built, but is still version 1"))
        #expect(error.message.contains("was \"tumbling window 3600000 ms"))
        #expect(error.message.contains("now \"tumbling window 7200000 ms"))
        #expect(error.hint?.contains("Give it version 2 and run `runnel run clicks-hourly --rebuild`") == true)

        // So is a changed lateness; a new version with a rebuild is taken.
        try driver.replace(with: hourly(1, lateness: .minutes(5)))
        #expect(throws: RunnelError.self) { try driver.run() }
        try driver.replace(with: hourly(2, version: 2), rebuild: true)
        try driver.run()
        #expect(try driver.rows("clicks_hourly").map { int($0["window_end"]) } == [7_200_000])
    }

    @Test func aStateWithoutAShapeTakesTheCurrentOne() throws {
        let driver = try PipelineTestDriver(hourly(1))
        try driver.click(1, user: 1, at: 0)
        try driver.run()
        // As a home from before shapes were recorded.
        try driver.store.derived.write { try $0.execute(sql: "UPDATE runnel_pipelines SET shape = NULL") }
        try driver.replace(with: hourly(2))
        try driver.run()
        #expect(try driver.rows("runnel_pipelines").first.flatMap { text($0["shape"]) }?.contains("7200000") == true)
    }
}
