import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

/// What an application writes: its own times, taken with `Date()`.
private struct CheckedIn: Codable, Sendable {
    var memberId: Int64
    var at: Date
    var recordedAt: Date
}

/// What a pipeline reads from the same JSON: the time as an `Int64` of milliseconds.
private struct CheckIn: Decodable, Sendable {
    var memberId: Int64
    var at: Int64
    var recordedAt: Int64
}

private let checkIns = Pipeline("check-ins", version: 1, description: "check-in times as Int64 milliseconds") {
    Source("check-ins", as: CheckIn.self, type: "CheckedIn", time: \.at)
        .into(ReadView("check_ins", primaryKey: ["member_id"]) {
            ViewColumn("member_id", \.memberId)
            ViewColumn("at", \.at)
            ViewColumn("recorded_at", \.recordedAt)
        })
}

/// Times written by the outbox are whole milliseconds, in the payload and in `event_time` alike,
/// so an event type may read them as `Int64` (as the docs allow) and nothing is dead-lettered.
@Suite struct OutboxEventTimeTests {
    @Test func datesOfAnAppEventReachAPipelineReadingInt64MillisecondsWithoutDeadLetters() throws {
        let temporary = try TemporaryHome(label: "event-time")
        let store = try temporary.openStore()
        // `Date()` as an app takes it, and one date with a known fraction of a millisecond, so the
        // test does not depend on the clock landing between two milliseconds.
        let dates = [Date(), Date(timeIntervalSince1970: 1_796_169_392.124_474), Date(timeIntervalSince1970: 1_796_169_392.999_9)]
        let expected: [Int64] = dates.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.down)) }
        #expect(expected[1] == 1_796_169_392_124)
        #expect(expected[2] == 1_796_169_392_999)
        for (member, date) in dates.enumerated() {
            _ = try store.app.write { db in
                try store.outbox.append(OutboxEvent(topic: "check-ins", key: "\(member)", type: "CheckedIn",
                                                    payload: CheckedIn(memberId: Int64(member), at: date, recordedAt: date),
                                                    eventTime: date), in: db)
            }
        }
        let rows = try store.app.read { db in try OutboxRow.fetchPending(db) }
        #expect(rows.map(\.eventTime) == expected)
        for (row, time) in zip(rows, expected) {
            #expect(row.payload.contains("\"at\":\(time),"), "payload \(row.payload)")
            // The app's own type still decodes, to the same whole millisecond.
            let decoded = try Outbox.makeDecoder().decode(CheckedIn.self, from: Data(row.payload.utf8))
            #expect(decoded.at.millisecondsSince1970 == time)
        }

        let log = try Log.open(temporary.home.logURL)
        #expect(try OutboxRelay(store: store, log: log).drain().relayed == dates.count)
        let runner = try PipelineRunner(pipeline: checkIns, store: store, log: log)
        _ = try runner.runToEnd()

        try store.derived.read { db in
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_pipeline_dead_letters") == 0)
            let seen = try Row.fetchAll(db, sql: "SELECT at, recorded_at FROM check_ins ORDER BY member_id")
            #expect(seen.map { $0["at"] as Int64 } == expected)
            #expect(seen.map { $0["recorded_at"] as Int64 } == expected)
        }
    }

    @Test func aDateMadeFromWholeMillisecondsGivesThemBack() {
        for milliseconds: Int64 in [0, 1, 999, 1_700_000_000_123, 1_796_169_392_124, 4_102_444_799_999] {
            #expect(Date(millisecondsSince1970: milliseconds).millisecondsSince1970 == milliseconds)
        }
    }
}
