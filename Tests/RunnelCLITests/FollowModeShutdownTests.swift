import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting
import Testing

/// `relay --follow` and `run --all --follow`, caught up and waiting, stop on SIGTERM within
/// 2 s, cleanly: waiting is a wake-up that a graceful shutdown also gives.
@Suite struct FollowModeShutdownTests {
    @Test func caughtUpFollowersStopWithinTwoSecondsOfSIGTERM() throws {
        let temporary = try TemporaryHome(label: "follow-shutdown")
        let store = try temporary.openStoreWithSampleData(SampleCatalog.catalog)
        let home = temporary.home.url.path
        let logs = temporary.folder
        let relay = try ChildProcess.launch(["relay", "--follow", "--home", home], standardErrorTo: logs.appendingPathComponent("relay.err"))
        let pipelines = try ChildProcess.launch(["run", "--all", "--follow", "--home", home], standardErrorTo: logs.appendingPathComponent("run.err"))
        let deadline = Date().addingTimeInterval(120)
        func caughtUp() throws -> Bool {
            let outbox = try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") ?? 1 }
            let committed = try store.derived.read { try Int64.fetchOne($0, sql: "SELECT coalesce(sum(next_offset), 0) FROM runnel_pipeline_offsets") ?? 0 }
            return outbox == 0 && committed > 0
        }
        while try !caughtUp(), relay.isRunning, pipelines.isRunning, Date() < deadline { usleep(20_000) }
        #expect(try caughtUp())
        usleep(500_000) // idle, waiting for work
        let start = ContinuousClock.now
        kill(relay.processIdentifier, SIGTERM)
        kill(pipelines.processIdentifier, SIGTERM)
        relay.waitUntilExit()
        pipelines.waitUntilExit()
        let took = ContinuousClock.now - start
        #expect(took < .seconds(2), "stopping took \(took)")
        #expect(relay.terminationReason == .exit && relay.terminationStatus == 0, "\(ChildProcess.text(of: logs.appendingPathComponent("relay.err")))")
        #expect(pipelines.terminationReason == .exit && pipelines.terminationStatus == 0, "\(ChildProcess.text(of: logs.appendingPathComponent("run.err")))")
    }
}
