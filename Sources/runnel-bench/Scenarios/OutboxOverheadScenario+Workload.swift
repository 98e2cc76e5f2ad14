import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting

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
    /// - Returns: The member's bot flag, which the event would carry.
    @discardableResult
    static func recordActivityWithoutOutbox(_ activity: ActivityInput, in db: Database) throws -> Bool {
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
        return isBot
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
    /// - Parameter relayed: The transactions whose events a relay has moved to the log (their
    ///   rows are gone from the outbox); the rest must still be there.
    /// - Throws: ``BenchmarkError`` naming the first difference.
    func checkSameWork(runnel: Store, baseline: Store, transactions: Int, relayed: Int = 0) throws -> WorkCheck {
        let businessState = "SELECT (SELECT count(*) FROM member_activity), (SELECT total(last_active_at) FROM members), (SELECT count(*) FROM runnel_outbox)"
        let runnelState = try runnel.app.read { try Row.fetchOne($0, sql: businessState) }
        let baselineState = try baseline.app.read { try Row.fetchOne($0, sql: businessState) }
        guard let runnelState, let baselineState else { throw BenchmarkError("\(name): cannot read the state of the homes") }
        guard runnelState[0] as Int == transactions, baselineState[0] as Int == transactions,
              runnelState[1] as Double == baselineState[1] as Double else {
            throw BenchmarkError("\(name): the two sides did different business work: activities \(runnelState[0] as Int) vs \(baselineState[0] as Int) (expected \(transactions)), last-active totals \(runnelState[1] as Double) vs \(baselineState[1] as Double)")
        }
        guard runnelState[2] as Int == transactions - relayed, baselineState[2] as Int == 0 else {
            throw BenchmarkError("\(name): expected \(transactions - relayed) outbox rows on Runnel's side and none on the baseline's, found \(runnelState[2] as Int) and \(baselineState[2] as Int)")
        }
        let averagePayload = try runnel.app.read { try Double.fetchOne($0, sql: "SELECT avg(length(payload)) FROM runnel_outbox") } ?? 0
        let size = "SELECT page_count * page_size / 1024.0 FROM pragma_page_count(), pragma_page_size()"
        return WorkCheck(
            outboxRows: transactions - relayed,
            averagePayloadBytes: averagePayload,
            runnelDatabaseKiB: try runnel.app.read { try Double.fetchOne($0, sql: size) } ?? 0,
            baselineDatabaseKiB: try baseline.app.read { try Double.fetchOne($0, sql: size) } ?? 0)
    }
}

/// A Runnel home and a baseline home, seeded alike, with their stores open: the two sides of one
/// comparison. The homes are removed when the pair is released.
struct HomePair {
    /// Runnel's side's home: business tables and the outbox.
    let runnelHome: TemporaryHome
    /// The baseline's home: the same business tables, no append.
    let baselineHome: TemporaryHome
    /// The store open on ``runnelHome``.
    let runnel: Store
    /// The store open on ``baselineHome``.
    let baseline: Store

    /// Creates both homes, applies the business migrations and seeds the same members in each.
    init(label: String, migrations: Migrations, members: Int) throws {
        runnelHome = try TemporaryHome(label: "bench-\(label)-runnel")
        baselineHome = try TemporaryHome(label: "bench-\(label)-baseline")
        runnel = try runnelHome.openStore(migrations: migrations)
        baseline = try baselineHome.openStore(migrations: migrations)
        try OutboxOverheadScenario.seedMembers(members, in: runnel)
        try OutboxOverheadScenario.seedMembers(members, in: baseline)
    }
}

extension OutboxOverheadScenario {
    /// One interleaved comparison: both sides' tallies, and the transactions each side ran
    /// (warm-up included), for ``checkSameWork(runnel:baseline:transactions:relayed:)``.
    struct Comparison {
        /// Both sides' counted rounds.
        var interleaved: Interleaving.Sides
        /// Transactions each side ran, warm-up included.
        var transactions: Int
    }

    /// The headline's comparison on a pair of homes: the same activities a round on both sides,
    /// Runnel's through ``Network`` (business statements and the outbox append), the baseline's
    /// through ``recordActivityWithoutOutbox(_:in:)``, one write transaction each, timed one by one.
    /// - Parameter afterRunnelRound: Runs at the end of each of Runnel's rounds, inside its time.
    func compare(_ pair: HomePair, rounds: Int, size: Size, afterRunnelRound: () throws -> Void = {}) throws -> Comparison {
        let network = Network(outbox: pair.runnel.outbox)
        let interleaving = Interleaving(rounds: rounds, warmUpRounds: 1)
        let sides = try interleaving.run(
            input: { round in Self.activities(round: round, count: size.transactionsPerRound, members: size.members) },
            runnel: { activities, tally in
                for activity in activities {
                    try tally.time {
                        try pair.runnel.app.write { db in
                            try network.recordActivity(
                                id: activity.id, memberId: activity.memberId, kind: activity.kind, page: activity.page,
                                dwellMs: activity.dwellMs, userAgent: activity.userAgent, at: activity.at, in: db)
                        }
                    }
                }
                try afterRunnelRound()
            },
            baseline: { activities, tally in
                for activity in activities {
                    try tally.time {
                        try pair.baseline.app.write { db in try Self.recordActivityWithoutOutbox(activity, in: db) }
                    }
                }
            })
        return Comparison(interleaved: sides, transactions: (interleaving.warmUpRounds + rounds) * size.transactionsPerRound)
    }

    /// Sets `PRAGMA synchronous` on a store's write connection (a pool has one, which every write
    /// and ``Outbox/append(_:in:)`` goes through) and checks that it took. The store offers no
    /// setting for it: it opens every database at `FULL`.
    /// - Parameter setting: `FULL` or `NORMAL`.
    static func setSynchronous(_ setting: String, on store: Store) throws {
        let expected = ["NORMAL": 1, "FULL": 2][setting]
        let value = try store.app.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = \(setting)")
            return try Int.fetchOne(db, sql: "PRAGMA synchronous")
        }
        guard let expected, value == expected else {
            throw BenchmarkError("outbox-overhead: PRAGMA synchronous = \(setting) left the write connection at \(value.map(String.init) ?? "?")")
        }
    }

    /// The headline comparison once more, in homes of its own, with ``RelayService`` following
    /// Runnel's outbox in a task of the same process from the first round to the last, so its
    /// rows are relayed and deleted as they come. Each of Runnel's rounds ends when the relay has
    /// emptied the outbox (inside the round's time), so none of the relay's work falls in the
    /// baseline's rounds.
    /// - Throws: When the log does not hold one record per transaction, or rows are left.
    func compareWithRelay(migrations: Migrations, size: Size) throws -> Interleaving.Sides {
        let pair = try HomePair(label: "outbox-relayed", migrations: migrations, members: size.members)
        let log = try Log.open(pair.runnelHome.home.logURL)
        try log.createTopic(NetworkTopic.memberActivity)
        let relay = try OutboxRelay(store: pair.runnel, log: log)
        let service = RelayService(relay: relay)
        let following = BackgroundTask { try await service.run() }
        let compared = Result { try compare(pair, rounds: size.relayRounds, size: size) { try Self.waitUntilRelayed(pair.runnel) } }
        let stopped = Result { try following.cancelAndJoin() }
        let comparison = try compared.get()
        try stopped.get()
        let inLog = try log.topic(NetworkTopic.memberActivity)?.partitions.reduce(Int64(0)) { $0 + $1.endOffset } ?? 0
        guard inLog == Int64(comparison.transactions) else {
            throw BenchmarkError("\(name): with the relay following, the log holds \(inLog) records for \(comparison.transactions) transactions")
        }
        _ = try checkSameWork(runnel: pair.runnel, baseline: pair.baseline, transactions: comparison.transactions,
                              relayed: comparison.transactions)
        try log.close()
        return comparison.interleaved
    }

    /// Waits until a store's outbox is empty (the relay has caught up), polling every 0.2 ms.
    /// - Throws: When rows are still there after 30 s.
    static func waitUntilRelayed(_ store: Store) throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while try store.app.read({ try Bool.fetchOne($0, sql: "SELECT EXISTS (SELECT 1 FROM runnel_outbox)") }) == true {
            guard ContinuousClock.now < deadline else {
                throw BenchmarkError("outbox-overhead: the relay left rows in the outbox for 30 s")
            }
            usleep(200)
        }
    }
}

extension OutboxOverheadScenario {
    /// Where the outbox's cost goes, measured in one home at one `synchronous` setting: mean
    /// microseconds a transaction of each part.
    struct CostParts {
        /// The whole transaction (the `write` call), business statements only.
        var plainTransaction = 0.0
        /// The whole transaction with ``Outbox/append(_:in:)``.
        var appendTransaction = 0.0
        /// The whole transaction with the append done by hand (encode, then `INSERT`).
        var byHandTransaction = 0.0
        /// The ``Outbox/append(_:in:)`` call.
        var append = 0.0
        /// The JSON encode alone (the outbox's ``PayloadEncoder`` on the `ActivityRecorded` payload).
        var encode = 0.0
        /// The append's `INSERT` alone, given the encoded JSON.
        var insert = 0.0
        /// Begin and commit, without the append: the `write` call less the work inside it.
        var plainCommit = 0.0
        /// Begin and commit with the append: one more table page (and `sqlite_sequence`'s)
        /// written to the WAL.
        var appendCommit = 0.0

        /// Every part divided by `count`: sums into means.
        func divided(by count: Double) -> CostParts {
            CostParts(plainTransaction: plainTransaction / count, appendTransaction: appendTransaction / count,
                      byHandTransaction: byHandTransaction / count, append: append / count, encode: encode / count,
                      insert: insert / count, plainCommit: plainCommit / count, appendCommit: appendCommit / count)
        }
    }

    /// Measures where the outbox's cost goes, at `synchronous = FULL` and `NORMAL`, in a home of
    /// its own: transactions take turns being plain (the baseline's statements), appending with
    /// ``Outbox/append(_:in:)`` (what ``Network`` does), and appending by hand in two timed parts,
    /// so disk and scheduler noise fall on all three alike.
    /// - Returns: Figures for the detail and a sentence for the note.
    func measureBreakdown(migrations: Migrations, size: Size) throws -> (figures: [Figure], note: String) {
        let home = try TemporaryHome(label: "bench-outbox-parts")
        let store = try home.openStore(migrations: migrations)
        try Self.seedMembers(size.members, in: store)
        var figures: [Figure] = []
        var notes: [String] = []
        for (pass, setting) in ["FULL", "NORMAL"].enumerated() {
            try Self.setSynchronous(setting, on: store)
            let parts = try Self.timeParts(in: store, round: pass, transactionsPerKind: size.breakdownTransactions, members: size.members)
            let key = setting.lowercased()
            figures += [
                Figure("parts_\(key)_plain_tx_us", parts.plainTransaction),
                Figure("parts_\(key)_append_tx_us", parts.appendTransaction),
                Figure("parts_\(key)_by_hand_tx_us", parts.byHandTransaction),
                Figure("parts_\(key)_append_us", parts.append),
                Figure("parts_\(key)_encode_us", parts.encode),
                Figure("parts_\(key)_insert_us", parts.insert),
                Figure("parts_\(key)_plain_commit_us", parts.plainCommit),
                Figure("parts_\(key)_append_commit_us", parts.appendCommit),
            ]
            func us(_ value: Double) -> String { FigureFormat.display(value) }
            notes.append("\(setting) tx \(us(parts.appendTransaction)) vs \(us(parts.plainTransaction)), append \(us(parts.append)) "
                + "(encode \(us(parts.encode)), INSERT \(us(parts.insert))), begin+commit \(us(parts.appendCommit)) vs \(us(parts.plainCommit))")
        }
        figures.append(Figure("parts_transactions_per_kind", size.breakdownTransactions))
        return (figures, "Where it goes, µs a tx (with outbox vs without): " + notes.joined(separator: "; "))
    }

    /// Runs `transactionsPerKind` transactions of each kind (plain, with the append, with the
    /// append by hand) in turn, after a tenth as many untimed ones of each, and returns the mean
    /// time of each part.
    /// - Parameter round: Picks the activities; each pass in one home needs its own.
    static func timeParts(in store: Store, round: Int, transactionsPerKind: Int, members: Int) throws -> CostParts {
        let warmUp = 3 * max(transactionsPerKind / 10, 1)
        let activities = Self.activities(round: round, count: warmUp + 3 * transactionsPerKind, members: members)
        let clock = ContinuousClock()
        var total = CostParts()
        func us(_ duration: Duration) -> Double { duration.seconds * 1e6 }
        for (index, activity) in activities.enumerated() {
            let kind = index % 3
            var inside = Duration.zero
            var append = Duration.zero, encode = Duration.zero, insert = Duration.zero
            let began = clock.now
            try store.app.write { db in
                let start = clock.now
                let isBot = try Self.recordActivityWithoutOutbox(activity, in: db)
                let event = ActivityRecorded(activityId: activity.id, memberId: activity.memberId, kind: activity.kind, page: activity.page,
                                             dwellMs: activity.dwellMs, userAgent: activity.userAgent, isBot: isBot, occurredAt: activity.at)
                if kind == 1 {
                    let appending = clock.now
                    try store.outbox.append(OutboxEvent(topic: NetworkTopic.memberActivity, key: String(activity.memberId),
                                                        type: "ActivityRecorded", payload: event, eventTime: activity.at), in: db)
                    append = clock.now - appending
                } else if kind == 2 {
                    let encoding = clock.now
                    let payload = try PayloadEncoder.encode(event)
                    let inserting = clock.now
                    encode = inserting - encoding
                    // The statement and arguments of Outbox.append, word for word.
                    try db.cachedStatement(sql: """
                        INSERT INTO runnel_outbox (topic, key, type, schema_version, payload, headers, event_time, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """).execute(arguments: [
                            NetworkTopic.memberActivity, String(activity.memberId), "ActivityRecorded", 1,
                            payload, nil as String?,
                            activity.at.millisecondsSince1970, Date().millisecondsSince1970,
                        ])
                    insert = clock.now - inserting
                }
                inside = clock.now - start
            }
            let whole = clock.now - began
            guard index >= warmUp else { continue }
            switch kind {
            case 0:
                total.plainTransaction += us(whole)
                total.plainCommit += us(whole - inside)
            case 1:
                total.appendTransaction += us(whole)
                total.append += us(append)
                total.appendCommit += us(whole - inside)
            default:
                total.byHandTransaction += us(whole)
                total.encode += us(encode)
                total.insert += us(insert)
            }
        }
        return total.divided(by: Double(transactionsPerKind))
    }
}
