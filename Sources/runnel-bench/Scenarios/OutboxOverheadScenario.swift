import Foundation
import Pipelines
import Runnel
import RunnelTesting

/// `outbox-overhead`: what the transactional outbox adds to a business transaction
/// (the goal: at most about 1.18× the time, so a throughput ratio of at least 0.85).
///
/// Runnel's side records a member's activity with ``Network/recordActivity(id:memberId:kind:page:dwellMs:userAgent:at:in:)``:
/// read the member's bot flag, insert a `member_activity` row, move `members.last_active_at`
/// forward and append `ActivityRecorded` to the outbox, in one write transaction. The baseline
/// runs the same statements in the same kind of transaction, without the append. Both commit
/// with the product's settings (WAL, `synchronous = FULL`), so each transaction waits for its
/// fsync, as a real application's would.
struct OutboxOverheadScenario: Scenario {
    let name = "outbox-overhead"
    let summary = "a business transaction (activity row + member update) with and without its outbox append"
    let unit = "tx/s"
    let goal = 0.85

    /// How much one run does.
    struct Size {
        /// Members seeded before the run; activities pick among them.
        var members: Int
        /// Counted rounds, each running both sides.
        var rounds: Int
        /// Transactions per side and round.
        var transactionsPerRound: Int
    }

    /// The size of a quick or a full run.
    static func size(quick: Bool) -> Size {
        // About 0.4 ms a transaction on a VM's disk: a quick run takes a few seconds, a full one
        // under a minute. Many short rounds rather than a few long ones, so that slow patches of
        // the disk fall on both sides.
        quick ? Size(members: 10_000, rounds: 20, transactionsPerRound: 250)
              : Size(members: 10_000, rounds: 40, transactionsPerRound: 1_000)
    }

    func run(quick: Bool) throws -> SideBySideMeasurement {
        let size = Self.size(quick: quick)
        guard let migrations = SampleCatalog.catalog.migrations else {
            throw BenchmarkError("\(name): the sample catalog has no migrations")
        }
        // Two homes, one per side, seeded identically and given the same activities: each side
        // then pays for exactly its own pages, WAL growth and checkpoints. In one shared home a
        // checkpoint triggered by one side's commit would write back pages the other side
        // dirtied, and the two sides' rows would share B-tree pages. The business tables of the
        // two homes stay the same size; Runnel's holds the outbox rows on top, which is the cost
        // being measured (the relay would delete them later). Both homes sit in the same temporary
        // folder, on the same file system, and are removed when the run ends.
        let runnelHome = try TemporaryHome(label: "bench-outbox-runnel")
        let baselineHome = try TemporaryHome(label: "bench-outbox-baseline")
        let runnelStore = try runnelHome.openStore(migrations: migrations)
        let baselineStore = try baselineHome.openStore(migrations: migrations)
        try Self.seedMembers(size.members, in: runnelStore)
        try Self.seedMembers(size.members, in: baselineStore)

        let network = Network(outbox: runnelStore.outbox)
        let interleaving = Interleaving(rounds: size.rounds, warmUpRounds: 1)
        let sides = try interleaving.run(
            input: { round in Self.activities(round: round, count: size.transactionsPerRound, members: size.members) },
            runnel: { activities, tally in
                for activity in activities {
                    try tally.time {
                        try runnelStore.app.write { db in
                            try network.recordActivity(
                                id: activity.id, memberId: activity.memberId, kind: activity.kind, page: activity.page,
                                dwellMs: activity.dwellMs, userAgent: activity.userAgent, at: activity.at, in: db)
                        }
                    }
                }
            },
            baseline: { activities, tally in
                for activity in activities {
                    try tally.time {
                        try baselineStore.app.write { db in try Self.recordActivityWithoutOutbox(activity, in: db) }
                    }
                }
            })

        let transactions = (interleaving.warmUpRounds + interleaving.rounds) * size.transactionsPerRound
        let check = try checkSameWork(runnel: runnelStore, baseline: baselineStore, transactions: transactions)
        let roundRatios = sides.roundRatios
        return SideBySideMeasurement(
            runnel: sides.runnel.rate,
            baseline: sides.baseline.rate,
            runnelLatency: sides.runnel.latency.summary,
            baselineLatency: sides.baseline.latency.summary,
            detail: [
                Figure("transactions_per_side", sides.runnel.operations),
                Figure("rounds", size.rounds),
                Figure("round_ratio_min", roundRatios.min),
                Figure("round_ratio_median", roundRatios.median),
                Figure("round_ratio_max", roundRatios.max),
                Figure("warm_up_rounds", interleaving.warmUpRounds),
                Figure("members", size.members),
                Figure("outbox_rows", check.outboxRows),
                Figure("outbox_payload_bytes_avg", check.averagePayloadBytes),
                Figure("runnel_db_kib", check.runnelDatabaseKiB),
                Figure("baseline_db_kib", check.baselineDatabaseKiB),
            ],
            note: "\(size.rounds) rounds × \(size.transactionsPerRound) tx a side after \(interleaving.warmUpRounds) warm-up round, "
                + "round ratios \(FigureFormat.displayRatio(roundRatios.min))–\(FigureFormat.displayRatio(roundRatios.max)); "
                + "\(check.outboxRows) outbox rows of \(FigureFormat.display(check.averagePayloadBytes)) B payload")
    }
}
