import Foundation
import GRDB
import Runnel

/// One activity to record: the input both sides of `outbox-overhead` get.
struct ActivityInput: Sendable {
    var id: Int64
    var memberId: Int64
    var kind: String
    var page: String
    var dwellMs: Int64
    var userAgent: String
    var at: Date
}

extension OutboxOverheadScenario {
    /// Longer than ``BenchVocabulary``'s: this scenario's payloads are full-size browser strings.
    private static let userAgents = [
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    ]
    /// 2025-06-15T16:53:20Z: activities happen from here on, 50 ms apart.
    private static let start = Date(timeIntervalSince1970: 1_750_006_400)

    /// Inserts members 1 through `count`, one in twenty a bot, in one transaction; the same count
    /// gives the same rows.
    static func seedMembers(_ count: Int, in store: Store) throws {
        var random = SeededGenerator(seed: 0x5EED)
        let industries = ["Software", "Finance", "Healthcare", "Education", "Retail", "Energy"]
        try store.app.write { db in
            let insert = try db.makeStatement(sql: """
                INSERT INTO members (member_id, name, email, industry, is_bot, joined_at) VALUES (?, ?, ?, ?, ?, ?)
                """)
            for id in 1...count {
                try insert.execute(arguments: [
                    id, "Member \(id)", "member\(id)@example.com", random.pick(industries), random.chance(0.05),
                    start.addingTimeInterval(-Double(random.below(86_400 * 365))).millisecondsSince1970,
                ])
            }
        }
    }

    /// The activities of one round: the same round gives the same activities, with ids following
    /// on from the previous round's.
    static func activities(round: Int, count: Int, members: Int) -> [ActivityInput] {
        var random = SeededGenerator(seed: 0xAC71_0000 &+ UInt64(round))
        return (0..<count).map { index in
            let id = Int64(round * count + index + 1)
            let memberId = Int64(random.below(members) + 1)
            let page = random.chance(0.3) ? "/in/member-\(random.below(members) + 1)" : random.pick(BenchVocabulary.pages)
            return ActivityInput(
                id: id, memberId: memberId, kind: random.pick(BenchVocabulary.kinds), page: page, dwellMs: Int64(random.below(60_000)),
                userAgent: random.pick(userAgents), at: start.addingTimeInterval(Double(id) * 0.05))
        }
    }

    /// The baseline transaction's work: the statements of `Network.recordActivity`, the same way
    /// it runs them (through the statement cache), without the outbox append. Keep the two in step.
    static func recordActivityWithoutOutbox(_ activity: ActivityInput, in db: Database) throws {
        guard ["page_view", "click", "post", "reaction"].contains(activity.kind) else {
            throw BenchmarkError("unknown activity kind \(activity.kind)")
        }
        guard let isBot = try Bool.fetchOne(db.cachedStatement(sql: "SELECT is_bot FROM members WHERE member_id = ?"), arguments: [activity.memberId]) else {
            throw BenchmarkError("member \(activity.memberId) does not exist")
        }
        try db.cachedStatement(sql: """
            INSERT INTO member_activity (activity_id, member_id, kind, page, dwell_ms, user_agent, is_bot, occurred_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [activity.id, activity.memberId, activity.kind, activity.page, activity.dwellMs, activity.userAgent,
                             isBot, activity.at.millisecondsSince1970])
        try db.cachedStatement(sql: "UPDATE members SET last_active_at = max(coalesce(last_active_at, 0), ?) WHERE member_id = ?")
            .execute(arguments: [activity.at.millisecondsSince1970, activity.memberId])
    }

    /// What both homes hold after a run.
    struct WorkCheck {
        var outboxRows: Int
        var averagePayloadBytes: Double
        var runnelDatabaseKiB: Double
        var baselineDatabaseKiB: Double
    }

    /// Checks that both sides did the same business work, and Runnel's side announced each
    /// transaction once, so the two figures compare like with like.
    /// - Throws: ``BenchmarkError`` naming the first difference.
    func checkSameWork(runnel: Store, baseline: Store, transactions: Int) throws -> WorkCheck {
        let businessState = "SELECT (SELECT count(*) FROM member_activity), (SELECT total(last_active_at) FROM members), (SELECT count(*) FROM runnel_outbox)"
        let runnelState = try runnel.app.read { try Row.fetchOne($0, sql: businessState) }
        let baselineState = try baseline.app.read { try Row.fetchOne($0, sql: businessState) }
        guard let runnelState, let baselineState else { throw BenchmarkError("\(name): cannot read the state of the homes") }
        guard runnelState[0] as Int == transactions, baselineState[0] as Int == transactions,
              runnelState[1] as Double == baselineState[1] as Double else {
            throw BenchmarkError("\(name): the two sides did different business work: activities \(runnelState[0] as Int) vs \(baselineState[0] as Int) (expected \(transactions)), last-active totals \(runnelState[1] as Double) vs \(baselineState[1] as Double)")
        }
        guard runnelState[2] as Int == transactions, baselineState[2] as Int == 0 else {
            throw BenchmarkError("\(name): expected \(transactions) outbox rows on Runnel's side and none on the baseline's, found \(runnelState[2] as Int) and \(baselineState[2] as Int)")
        }
        let averagePayload = try runnel.app.read { try Double.fetchOne($0, sql: "SELECT avg(length(payload)) FROM runnel_outbox") } ?? 0
        let size = "SELECT page_count * page_size / 1024.0 FROM pragma_page_count(), pragma_page_size()"
        return WorkCheck(
            outboxRows: transactions,
            averagePayloadBytes: averagePayload,
            runnelDatabaseKiB: try runnel.app.read { try Double.fetchOne($0, sql: size) } ?? 0,
            baselineDatabaseKiB: try baseline.app.read { try Double.fetchOne($0, sql: size) } ?? 0)
    }
}
