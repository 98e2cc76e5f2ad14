import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting
import Testing

/// Invariant 1 (atomic outbox) under real crashes: a child `runnel sample load` is killed with
/// SIGKILL at random moments. After every kill, each business row has its event and no event
/// lacks its row; resumed to the end, the outbox equals the one a clean load produces.
///
/// Seeded: `RUNNEL_CRASH_SEED=N` replays a failure, `RUNNEL_CRASH_ROUNDS=N` runs longer.
@Suite struct SampleLoadCrashTests {
    /// Business table and the event type each of its rows announces.
    static let pairs = [
        ("members", "MemberJoined"), ("member_activity", "ActivityRecorded"), ("profile_views", "ProfileViewed"),
        ("connection_invitations", "InvitationSent"), ("connections", "ConnectionMade"),
        ("service_exceptions", "ExceptionLogged"), ("host_metrics", "HostMetricRecorded"),
    ]

    @Test func killedLoadsLeaveRowsAndEventsTogetherAndResumeExactlyOnce() throws {
        let schedule = CrashSchedule(defaultSeed: 20_261_123, defaultRounds: 12)
        let (seed, rounds) = (schedule.seed, schedule.rounds)
        var random = schedule.random

        // A data set large enough (about 7,000 operations) that most kills land mid-load.
        let crashed = try TemporaryHome(label: "crash")
        let dataset = NetworkDataSet()
        var parameters = dataset.defaultParameters
        parameters.members = 250
        parameters.hours = 7
        let file = crashed.folder.appendingPathComponent("network-large.jsonl")
        try dataset.generate(parameters, to: file)
        _ = try crashed.openStore(migrations: SampleCatalog.catalog.migrationsDirectory)
        let load = ["sample", "load", "--file", file.path, "--home", crashed.home.url.path]
        var killedMidway = 0
        for round in 0..<rounds {
            let process = try ChildProcess.launch(load)
            usleep(UInt32(30_000 + random.below(200_000)))
            let wasRunning = process.isRunning
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if wasRunning { killedMidway += 1 }
            try checkRowsMatchEvents(crashed.home, "seed \(seed), round \(round)")
        }
        let finish = try ChildProcess.launch(load)
        finish.waitUntilExit()
        #expect(finish.terminationStatus == 0, "seed \(seed)")
        #expect(killedMidway > 0, "no kill landed while the load ran (seed \(seed)); the test proved nothing")

        let clean = try TemporaryHome(label: "clean")
        let store = try clean.openStore(migrations: SampleCatalog.catalog.migrationsDirectory)
        try SampleLoader(dataset: dataset).load(file, into: store)
        #expect(try outbox(crashed.home) == outbox(clean.home), "seed \(seed)")
    }

    private func checkRowsMatchEvents(_ home: RunnelHome, _ context: String) throws {
        let queue = try Store.openReadOnly(home, .app)
        try queue.read { db in
            for (table, type) in Self.pairs {
                let rows = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)")
                let events = try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_outbox WHERE type = ?", arguments: [type])
                #expect(rows == events, "\(table) vs \(type) after \(context)")
            }
            let recorded = try Int.fetchOne(db, sql: "SELECT coalesce(sum(events), 0) FROM runnel_sample_loads")
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_outbox") == recorded, "progress vs outbox after \(context)")
        }
    }

    /// The outbox as (type, key, payload) in id order: created_at and ids aside, what a clean load gives.
    private func outbox(_ home: RunnelHome) throws -> [String] {
        try Store.openReadOnly(home, .app).read { db in
            try Row.fetchAll(db, sql: "SELECT type, key, payload, event_time FROM runnel_outbox ORDER BY id").map {
                "\($0["type"] as String)|\($0["key"] as String? ?? "")|\($0["payload"] as String)|\($0["event_time"] as Int64)"
            }
        }
    }
}
