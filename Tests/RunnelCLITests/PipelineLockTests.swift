import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting
import Testing

/// One runner per pipeline, across processes: two `runnel run member-sessions` at once announce
/// each session once, and the one refused says who holds the pipeline.
@Suite struct TwoRunsOfOnePipelineDeriveEachEventOnce {
    static let pipeline = "member-sessions"

    /// Records in the log's `member-sessions` topic after a relay of the home's outboxes.
    static func relayedSessions(_ temporary: TemporaryHome, _ store: Store) throws -> Int64 {
        let log = try Log.open(temporary.home.logURL)
        defer { try? log.close() }
        _ = try OutboxRelay(store: store, log: log).drain()
        return try log.topic(pipeline).map { $0.partitions.reduce(0) { $0 + $1.endOffset } } ?? 0
    }

    static func committedOffsets(_ store: Store) throws -> Int64 {
        try store.derived.read { db in
            try Int64.fetchOne(db, sql: "SELECT coalesce(sum(next_offset), 0) FROM runnel_pipeline_offsets WHERE pipeline = ?", arguments: [pipeline]) ?? 0
        }
    }

    @Test func theSecondIsRefusedWithThePidAndTheTopicHoldsACleanRunsCount() throws {
        let cleanHome = try TemporaryHome(label: "lock-clean")
        let clean = try cleanHome.openStoreWithSampleData(SampleCatalog.catalog)
        _ = try PipelineRunner(pipeline: SampleCatalog.catalog.pipeline(named: Self.pipeline), store: clean).runToEnd()
        let expected = try Self.relayedSessions(cleanHome, clean)
        #expect(expected > 0)

        let temporary = try TemporaryHome(label: "lock-race")
        let store = try temporary.openStoreWithSampleData(SampleCatalog.catalog)
        let home = temporary.home.url.path
        let logs = temporary.folder

        // A follower holds the pipeline: a batch run beside it is refused and names it.
        let follower = try ChildProcess.launch(["run", Self.pipeline, "--follow", "--batch-size", "7", "--home", home],
                                               standardErrorTo: logs.appendingPathComponent("follower.err"))
        let deadline = Date().addingTimeInterval(60)
        while try Self.committedOffsets(store) == 0, follower.isRunning, Date() < deadline { usleep(10_000) }
        let refusedLog = logs.appendingPathComponent("refused.err")
        let refused = try ChildProcess.launch(["run", Self.pipeline, "--home", home], standardErrorTo: refusedLog)
        refused.waitUntilExit()
        let said = ChildProcess.text(of: refusedLog)
        #expect(refused.terminationStatus == 1, "\(said)")
        #expect(said.contains("pipeline \(Self.pipeline) is already being run by another process (pid \(follower.processIdentifier), lock file "), "\(said)")
        kill(follower.processIdentifier, SIGTERM)
        follower.waitUntilExit()
        #expect(follower.terminationReason == .exit && follower.terminationStatus == 0, "\(ChildProcess.text(of: logs.appendingPathComponent("follower.err")))")

        // Two batch runs started together: whichever way they interleave, one runs at a time.
        let racers = try (0..<2).map { index in
            let file = logs.appendingPathComponent("racer-\(index).err")
            return (try ChildProcess.launch(["run", Self.pipeline, "--batch-size", "3", "--home", home], standardErrorTo: file), file)
        }
        for (racer, _) in racers { racer.waitUntilExit() }
        for (index, (racer, file)) in racers.enumerated() where racer.terminationStatus != 0 {
            let other = racers[1 - index].0.processIdentifier
            #expect(ChildProcess.text(of: file).contains("already being run by another process (pid \(other), "), "\(ChildProcess.text(of: file))")
        }
        #expect(racers.contains { $0.0.terminationStatus == 0 })

        #expect(try Self.relayedSessions(temporary, store) == expected, "each session announced once, as a clean run does")
    }
}
