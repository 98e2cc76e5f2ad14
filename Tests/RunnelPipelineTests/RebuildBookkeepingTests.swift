import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

/// A rebuild is recorded in `runnel_pipelines.rebuild_started_at` from the moment the state is
/// dropped until a run has read the log to its end, across restarts.
@Suite struct ARebuildIsMarkedUntilTheReplayReachesTheLogsEnd {
    static func rebuilding(_ driver: PipelineTestDriver) throws -> Bool {
        try driver.rows("runnel_pipelines").first.map { $0["rebuild_started_at"]?.isNull == false } ?? false
    }

    @Test func inBatchModeAcrossARestart() throws {
        let driver = try PipelineTestDriver(clicksPerUser, batchSize: 2)
        for id in 0..<6 { try driver.click(Int64(id), user: 1, at: Int64(id)) }
        try driver.run()
        #expect(try !Self.rebuilding(driver))

        try driver.replace(with: clicksPerUser, rebuild: true)
        #expect(try Self.rebuilding(driver))
        try driver.runBatch()
        driver.restart()                        // interrupted: the next plain run goes on with it
        try driver.runBatch()
        #expect(try Self.rebuilding(driver))
        try driver.run()
        #expect(try !Self.rebuilding(driver))
        #expect(try driver.rows("clicks_per_user").map { int($0["clicks"]) } == [6])
    }

    @Test func inFollowModeWhenItFirstCatchesUp() async throws {
        let driver = try PipelineTestDriver(clicksPerUser)
        for id in 0..<6 { try driver.click(Int64(id), user: 1, at: Int64(id)) }
        try PipelineRunner.dropState(of: clicksPerUser, in: driver.store)
        #expect(try Self.rebuilding(driver))
        let service = PipelineService(pipeline: clicksPerUser, store: driver.store, options: .init(batchSize: 2))
        let follower = Task { try await service.run() }
        let deadline = ContinuousClock.now + .seconds(300)
        while try Self.rebuilding(driver), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(try !Self.rebuilding(driver), "the follower caught up and cleared the mark while still running")
        #expect(try driver.rows("clicks_per_user").map { int($0["clicks"]) } == [6])
        follower.cancel()
        try await follower.value
    }
}
