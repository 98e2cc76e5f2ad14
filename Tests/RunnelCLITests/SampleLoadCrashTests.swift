import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting
import Testing

/// Invariant 1 (atomic outbox) under real crashes: a child `runnel sample load` is killed with
/// SIGKILL in every round, a moment after it committed a batch. After every kill, each business
/// row has its event, field by field, and no event lacks its row; resumed to the end, the outbox
/// equals the one a clean load produces.
///
/// Each round proves the child died of SIGKILL with the load's progress strictly between where
/// the round started and the end of the file, and prints it; the test fails when too few rounds
/// land mid-load. Seeded: `RUNNEL_CRASH_SEED=N` replays a failure, `RUNNEL_CRASH_ROUNDS=N` runs longer.
@Suite struct SampleLoadCrashTests {
    /// A business table and the event each of its rows announces, with the same fields read
    /// from both: the row's columns, and the event's key and payload (SQLite's JSON functions).
    struct Pair {
        var table: String
        var type: String
        var row: [String]
        var event: [String]
    }

    static let pairs = [
        Pair(table: "members", type: "MemberJoined",
             row: ["member_id", "member_id", "name", "industry", "is_bot", "joined_at"],
             event: ["key", "$.memberId", "$.name", "$.industry", "$.isBot", "$.joinedAt"]),
        Pair(table: "member_activity", type: "ActivityRecorded",
             row: ["member_id", "activity_id", "member_id", "kind", "page", "dwell_ms", "user_agent", "is_bot", "occurred_at"],
             event: ["key", "$.activityId", "$.memberId", "$.kind", "$.page", "$.dwellMs", "$.userAgent", "$.isBot", "$.occurredAt"]),
        Pair(table: "profile_views", type: "ProfileViewed",
             row: ["viewed_id", "view_id", "viewer_id", "viewed_id", "occurred_at"],
             event: ["key", "$.viewId", "$.viewerId", "$.viewedId", "$.occurredAt"]),
        Pair(table: "connection_invitations", type: "InvitationSent",
             row: ["invitation_id", "invitation_id", "inviter_id", "invitee_id", "message", "sent_at"],
             event: ["key", "$.invitationId", "$.inviterId", "$.inviteeId", "$.message", "$.sentAt"]),
        Pair(table: "connections", type: "ConnectionMade",
             row: ["invitation_id", "member_a", "member_b", "invitation_id", "connected_at"],
             event: ["key", "$.memberA", "$.memberB", "$.invitationId", "$.connectedAt"]),
        Pair(table: "service_exceptions", type: "ExceptionLogged",
             row: ["service", "exception_id", "service", "host", "level", "exception_type", "message", "stack_trace", "occurred_at", "service_version"],
             event: ["key", "$.exceptionId", "$.service", "$.host", "$.level", "$.exceptionType", "$.message", "$.stackTrace", "$.occurredAt",
                     "$.serviceVersion"]),
        Pair(table: "host_metrics", type: "HostMetricRecorded",
             row: ["host", "host", "metric", "recorded_at", "real:value"],
             event: ["key", "$.host", "$.metric", "$.recordedAt", "real:$.value"]),
    ]

    @Test func killedLoadsLeaveRowsAndEventsTogetherAndResumeExactlyOnce() throws {
        let schedule = CrashSchedule(defaultSeed: 20_261_123, defaultRounds: 12)
        let (seed, rounds) = (schedule.seed, schedule.rounds)
        var random = schedule.random

        // About 800 operations per simulated hour, in batches of 500: 12 rounds get about
        // 10,000 operations, more batches than rounds, so every round's kill can land mid-load
        // (and more rounds get a larger data set).
        let crashed = try TemporaryHome(label: "crash")
        let dataset = NetworkDataSet()
        var parameters = dataset.defaultParameters
        parameters.members = 250
        parameters.hours = max(12, rounds + 2)
        let file = crashed.folder.appendingPathComponent("network-large.jsonl")
        try dataset.generate(parameters, to: file)
        _ = try crashed.openStore(migrations: SampleCatalog.catalog.migrations)
        let progress = try Store.openReadOnly(crashed.home, .app)
        func nextLine() throws -> (next: Int, total: Int?) {
            try progress.read { db in
                let row = try Row.fetchOne(db, sql: "SELECT next_line, total_lines FROM runnel_sample_loads")
                return (row?["next_line"] ?? 0, row?["total_lines"])
            }
        }
        let load = ["sample", "load", "--file", file.path, "--home", crashed.home.url.path]
        var killedMidway = 0
        for round in 0..<rounds {
            let before = try nextLine().next
            let child = try CrashChild(load)
            // Aim: wait until the child commits a batch, then kill it a moment into the next one.
            while try nextLine().next == before, child.process.isRunning { usleep(2_000) }
            usleep(UInt32(random.below(50_000)))
            child.kill()
            let (after, total) = try nextLine()
            let midway = child.diedOfSIGKILL && before < after && after < (total ?? 0)
            if midway { killedMidway += 1 }
            #expect(child.diedOfSIGKILL || after == total, "seed \(seed), round \(round): the load ended with \(child.termination) before finishing")
            print("sample load crash seed \(seed) round \(round): \(child.termination), line \(before) -> \(after) of \(total ?? 0)"
                  + (midway ? ", killed mid-load" : ", not mid-load"))
            try checkRowsMatchEvents(crashed.home, "seed \(seed), round \(round)")
        }
        #expect(killedMidway >= rounds * 3 / 4, "seed \(seed): only \(killedMidway) of \(rounds) kills landed mid-load; the rounds proved too little")
        let finish = try ChildProcess.launch(load)
        finish.waitUntilExit()
        #expect(finish.terminationStatus == 0, "seed \(seed)")
        try checkRowsMatchEvents(crashed.home, "seed \(seed), the finished load")

        let clean = try TemporaryHome(label: "clean")
        let store = try clean.openStore(migrations: SampleCatalog.catalog.migrations)
        try SampleLoader(dataset: dataset).load(file, into: store)
        #expect(try outbox(crashed.home) == outbox(clean.home), "seed \(seed)")
    }

    /// A field as comparable text: `$.path` reads the payload's JSON, `real:` compares as a
    /// number (JSON writes 43 where the REAL column holds 43.0), null is spelled out.
    static func sql(_ field: String) -> String {
        if field.hasPrefix("real:") { return "printf('%.6f', \(sql(String(field.dropFirst("real:".count)))))" }
        let value = field.hasPrefix("$") ? "json_extract(payload, '\(field)')" : field
        return "coalesce(CAST(\(value) AS TEXT), '<null>')"
    }

    /// Each business row against its event, field by field, and the loader's event count.
    private func checkRowsMatchEvents(_ home: RunnelHome, _ context: String) throws {
        let queue = try Store.openReadOnly(home, .app)
        try queue.read { db in
            for pair in Self.pairs {
                let rowFields = pair.row.map(Self.sql).joined(separator: " || char(31) || ")
                let eventFields = pair.event.map(Self.sql).joined(separator: " || char(31) || ")
                let rows = try String.fetchAll(db, sql: "SELECT \(rowFields) FROM \(pair.table)").sorted()
                let events = try String.fetchAll(db, sql: "SELECT \(eventFields) FROM runnel_outbox WHERE type = ?", arguments: [pair.type]).sorted()
                if rows != events {
                    let rowsWithoutEvent = Array(Set(rows).subtracting(events).prefix(3))
                    let eventsWithoutRow = Array(Set(events).subtracting(rows).prefix(3))
                    Issue.record("""
                        \(pair.table) (\(rows.count) rows) vs \(pair.type) (\(events.count) events) after \(context): \
                        rows without their event \(rowsWithoutEvent), events without their row \(eventsWithoutRow)
                        """)
                }
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
