import Foundation
import GRDB
@testable import Runnel
import RunnelCLI
import RunnelTesting
import Testing

/// `runnel status`: the facts it shows equal the tables and the log, and `--check` names each
/// kind of problem and exits 1 for it.
@Suite struct StatusCommandTests {
    let temporary: TemporaryHome
    let home: String
    let store: Store

    init() async throws {
        temporary = try TemporaryHome(label: "status")
        home = temporary.home.url.path
        store = try temporary.openStore(migrations: CLITrip.migrations)
    }

    private func trips(_ arguments: String...) async -> Invocation {
        await runnel(arguments + ["--home", home], catalog: CLITrip.catalog)
    }

    private func book(_ trip: Int, fullHotel: Bool = false, stubbornCancel: Bool = false) throws {
        try store.app.write { db in
            if fullHotel { try db.execute(sql: "INSERT INTO full_hotels VALUES (?)", arguments: [trip]) }
            if stubbornCancel { try db.execute(sql: "INSERT INTO stubborn_cancels (trip_id) VALUES (?)", arguments: [trip]) }
            _ = try store.outbox.append(OutboxEvent(topic: "trips", key: "\(trip)", type: "TripBooked",
                                                    payload: CLITripBooked(tripId: trip, traveller: "t\(trip % 3)", bookedAt: Date()), eventTime: Date()), in: db)
        }
    }

    private func settle() async {
        for _ in 0..<20 {
            #expect(await trips("run", "--all").status == 0)
            let relayed = await trips("relay")
            if relayed.output.hasPrefix("Relayed 0 rows") { return }
        }
        Issue.record("the trips did not settle in 20 rounds")
    }

    private func status(_ extra: String...) async throws -> [String: Any] {
        let invocation = await runnel(["status", "--format", "json", "--home", home] + extra, catalog: CLITrip.catalog)
        #expect(invocation.status == 0 || extra.contains("--check"), "\(invocation.error)")
        return try #require(try JSONSerialization.jsonObject(with: Data(invocation.output.utf8)) as? [String: Any])
    }

    private func entry(_ status: [String: Any], _ part: String, _ key: String, _ name: String) throws -> [String: Any] {
        let entries = try #require(status[part] as? [[String: Any]])
        return try #require(entries.first { $0[key] as? String == name }, "no \(name) in \(part)")
    }

    @Test func theFiguresEqualTheTablesAndTheLog() async throws {
        for trip in 1...5 { try book(trip, fullHotel: trip == 2) }
        try #require(await trips("relay").status == 0)
        await settle()
        for trip in 6...8 { try book(trip) }   // waiting in the outbox

        let status = try await status()
        let outbox = try entry(status, "databases", "database", "app.sqlite")
        #expect(outbox["outbox_backlog"] as? Int == 3)
        #expect((outbox["oldest_pending_ms"] as? Int ?? -1) >= 0)

        let log = try Log.openForReading(temporary.home.logURL)
        for name in log.topicNames {
            let topic = try #require(try log.topic(name))
            let shown = try entry(status, "topics", "name", name)
            #expect(shown["end_offsets"] as? [Int64] == topic.partitions.map(\.endOffset))
            #expect(shown["records"] as? Int64 == topic.partitions.reduce(0) { $0 + $1.endOffset - $1.startOffset })
        }

        let saga = try entry(status, "sagas", "saga", "trip")
        let counts = try await store.app.read { try SagaRecords.counts(of: "trip", in: $0) }
        #expect(saga["completed"] as? Int == counts[.completed] ?? 0)
        #expect(saga["compensated"] as? Int == counts[.compensated] ?? 0)
        #expect(saga["completed"] as? Int == 4 && saga["compensated"] as? Int == 1)

        let pipeline = try entry(status, "pipelines", "name", "trips-per-traveller")
        let eventsIn = try await store.derived.read { try Int.fetchOne($0, sql: "SELECT events_in FROM runnel_pipelines WHERE name = 'trips-per-traveller'") }
        #expect(pipeline["records"] as? Int == eventsIn)
        #expect(pipeline["lag_events"] as? Int == 0)
        #expect(pipeline["watermark"] != nil)

        let handler = try entry(status, "handlers", "name", "flights")
        let handled = try await store.app.read { try Int.fetchOne($0, sql: "SELECT records FROM runnel_consumers WHERE consumer = 'handler:flights'") }
        #expect(handler["records"] as? Int == handled)
        #expect(handler["running_pid"] == nil)
        #expect((status["problems"] as? [Any])?.isEmpty == true)

        // The three trips wait in the outbox: on a busy machine this test can outlast --check's
        // 60 s backlog limit before it gets here, which is not what it checks.
        let screen = await trips("status", "--max-backlog-age", "86400")
        #expect(screen.status == 0, "\(screen.error)")
        #expect(screen.output.contains("problems: none"))
        #expect(screen.outputLines.contains { $0.hasPrefix("trip ") && $0.contains(" 4 ") })
    }

    @Test func checkIsQuietAndExitsZeroWhenAllIsWell() async throws {
        try book(1)
        try #require(await trips("relay").status == 0)
        await settle()
        let check = await trips("status", "--check")
        #expect(check.status == 0, "\(check.error)")
        #expect(check.output.isEmpty)
    }

    @Test func checkNamesAnOldBacklog() async throws {
        try book(1)
        try await store.app.write { db in
            try db.execute(sql: "UPDATE runnel_outbox SET created_at = created_at - 7200000")
        }
        let check = await trips("status", "--check")
        #expect(check.status == 1)
        #expect(check.outputLines.count == 1)
        #expect(check.output.hasPrefix("outbox app.sqlite: 1 row waiting, the oldest for 2h "), "\(check.output)")
        #expect(check.output.contains("(over 1m 0s): is the relay running?"), "\(check.output)")
        #expect(await trips("status", "--check", "--max-backlog-age", "86400").status == 0)
    }

    @Test func checkNamesFailedSagasAndLaggingRunners() async throws {
        try book(1, fullHotel: true, stubbornCancel: true)
        try #require(await trips("relay").status == 0)
        await settle()
        for trip in 2...4 { try book(trip) }
        try #require(await trips("relay").status == 0)

        let check = await trips("status", "--check", "--max-lag-events", "2")
        #expect(check.status == 1)
        #expect(check.outputLines.contains("saga trip: 1 failed instance needs an operator: `runnel saga list --saga trip --state failed`"), "\(check.output)")
        #expect(check.outputLines.contains("pipeline trips-per-traveller: 3 records waiting (over 2)"), "\(check.output)")
        #expect(check.outputLines.contains("saga coordinator trip: 3 records waiting (over 2)"), "\(check.output)")
    }

    @Test func checkNamesDamageTheLastVerifyFound() async throws {
        try book(1)
        try #require(await trips("relay").status == 0)
        #expect(await trips("log", "verify").status == 0)
        #expect(await trips("status", "--check").status == 0)

        let segment = temporary.home.logURL.appendingPathComponent("trips/0/00000000000000000000.log")
        var bytes = Array(try Data(contentsOf: segment))
        bytes[bytes.count - 5] ^= 0x40
        try Data(bytes).write(to: segment)
        #expect(await trips("log", "verify").status == 1)
        let check = await trips("status", "--check")
        #expect(check.status == 1)
        #expect(check.output.hasPrefix("log: the last verify found 1 damaged place, first: damaged: trips/0:"), "\(check.output)")

        #expect(await trips("log", "repair", "--yes").status == 0)
        #expect(await trips("log", "verify").status == 0)
        #expect(await trips("status", "--check").status == 0)
    }

    @Test func concurrentSharedReadsAllGetTheStatus() async throws {
        try book(1)
        try #require(await trips("relay").status == 0)
        let reader = try StatusReader(home: temporary.home, catalog: CLITrip.catalog)
        let single = try reader.read()
        let results = Locked<[Result<HomeStatus, any Error>]>([])
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            let result = Result { try reader.readShared() }
            results.withLock { $0.append(result) }
        }
        let statuses = try results.withLock { $0 }.map { try $0.get() }
        #expect(statuses.count == 16)
        for status in statuses {
            #expect(status.topics == single.topics && status.databases.map(\.outboxBacklog) == single.databases.map(\.outboxBacklog))
        }
    }

    @Test func theProcessHoldingARunnersLockIsNamed() async throws {
        var lock: RunnerLock? = try RunnerLock.acquire(.handler, named: "hotels", in: temporary.home)
        let running = try entry(try await status(), "handlers", "name", "hotels")
        #expect(running["running_pid"] as? Int == Int(getpid()))
        #expect(try entry(try await status(), "handlers", "name", "flights")["running_pid"] == nil)
        #expect(lock != nil)
        lock = nil
        // The file still names this process, but it no longer holds the lock.
        #expect(try entry(try await status(), "handlers", "name", "hotels")["running_pid"] == nil)
    }
}
