import Foundation
import GRDB
import Logging
import Runnel
import RunnelTesting
import Testing

/// Clicks counted per user and each click announced on a derived topic: a second runner that
/// committed would double the announcements, which upserted counts would hide.
private let countsAndAnnouncements = Pipeline("announced", version: 1, description: "test") {
    Source("clicks", as: Click.self, type: "Click", time: \.at)
        .into(Topic("clicks-seen", type: "ClickSeen") { "\($0.clickId)" })
    Source("clicks", as: Click.self, type: "Click", time: \.at)
        .keyBy("user_id", \.userId)
        .aggregate { Count("clicks") }
        .into(ReadView("announced_clicks", primaryKey: ["user_id"]))
}

private func runner(_ driver: PipelineTestDriver, batchSize: Int = 2, rebuild: Bool = false,
                    locking: PipelineRunner.Locking = .acquire) throws -> PipelineRunner {
    try PipelineRunner(pipeline: countsAndAnnouncements, store: driver.store, source: .log(driver.log),
                       options: .init(batchSize: batchSize, rebuild: rebuild), logger: Logger(label: "test"), locking: locking)
}

/// What the pipeline has committed: derived events, counted clicks, offsets, events read.
private func committed(_ driver: PipelineTestDriver) throws -> [Int64?] {
    let announced = try driver.store.derived.read { try Int64.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox WHERE topic = 'clicks-seen'") }
    let counted = try driver.rows("announced_clicks").reduce(Int64(0)) { $0 + (int($1["clicks"]) ?? 0) }
    let offset = try driver.rows("runnel_pipeline_offsets").first.flatMap { int($0["next_offset"]) }
    let eventsIn = try driver.rows("runnel_pipelines").first.flatMap { int($0["events_in"]) }
    return [announced, counted, offset, eventsIn]
}

private func clicks(_ driver: PipelineTestDriver, _ count: Int) throws {
    for id in 0..<count { try driver.click(Int64(id), user: Int64(id % 3), at: Int64(id) * 1_000) }
}

@Suite struct ASecondRunnerOfAPipelineIsRefused {
    @Test func whileTheFirstHoldsItsLockWithThePidAndTheLockFile() throws {
        let driver = try PipelineTestDriver(countsAndAnnouncements)
        try clicks(driver, 4)
        do {
            let first = try runner(driver)
            let error = #expect(throws: RunnelError.self) { _ = try runner(driver) }
            #expect(error?.code == .concurrentRunner)
            let lockFile = RunnerLock.folder(in: driver.home.home).appendingPathComponent("pipeline-announced.lock").path
            #expect(error?.message == "pipeline announced is already being run by another runner in this process (pid \(getpid()), lock file \(lockFile))")
            #expect(error?.hint?.contains("runnel run announced") == true)
            // A rebuild is refused too: it would drop the state the first runner is writing.
            #expect(throws: RunnelError.self) { try PipelineRunner.dropState(of: countsAndAnnouncements, in: driver.store) }
            _ = try first.runToEnd()
        }
        // Released with the runner: the next one runs.
        _ = try runner(driver).runToEnd()
        #expect(try committed(driver) == [4, 4, 4, 4])
    }
}

@Suite struct TwoRunnersPastTheLockNeverBothCommit {
    @Test func theSecondCommitIsRefusedAndNothingOfItLands() throws {
        let driver = try PipelineTestDriver(countsAndAnnouncements)
        try clicks(driver, 6)
        let first = try runner(driver)
        let second = try runner(driver, locking: .unlocked)
        try first.runBatch()
        let afterFirst = try committed(driver)
        #expect(afterFirst == [2, 2, 2, 2])

        let error = #expect(throws: RunnelError.self) { try second.runBatch() }
        #expect(error?.code == .concurrentRunner)
        #expect(error?.message.contains("pipeline announced was committed or rebuilt by another runner") == true)
        #expect(try committed(driver) == afterFirst, "the refused batch was rolled back whole")

        // The first goes on; a fresh runner after it loads its commit and goes on too.
        try first.runBatch()
        let third = try runner(driver, locking: .unlocked)
        try first.runBatch()
        #expect(throws: RunnelError.self) { try third.runBatch() }
        #expect(try committed(driver) == [6, 6, 6, 6])
    }

    @Test func aRebuildFromUnderARunnerStopsItsNextCommit() throws {
        let driver = try PipelineTestDriver(countsAndAnnouncements)
        try clicks(driver, 4)
        let first = try runner(driver)
        try first.runBatch()
        // Another runner got past the lock, rebuilt and read everything.
        _ = try runner(driver, batchSize: 100, rebuild: true, locking: .unlocked).runToEnd()
        let rebuilt = try committed(driver)
        #expect(rebuilt == [6, 4, 4, 4], "a rebuild announces the events again: 2 before it, 4 after")

        let error = #expect(throws: RunnelError.self) { try first.runBatch() }
        #expect(error?.code == .concurrentRunner)
        #expect(try committed(driver) == rebuilt)
    }
}
