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
///
/// Three more measurements, in the detail and the note, each in homes of its own:
/// - **`synchronous = NORMAL`**: the same comparison with both stores' write connections
///   switched to `NORMAL` (commits no longer wait for an fsync), which lifts the fsync's mask
///   over the CPU the append costs.
/// - **with the relay following**: the headline comparison again, with ``RelayService``
///   following Runnel's outbox, so its rows are relayed and deleted as they come, as in
///   production; the relay's disk and write-lock work competes with the writer.
/// - **where the cost goes**: in one home, transactions taking turns doing the business
///   statements alone, with ``Outbox/append(_:in:)``, and with the append done by hand in two
///   timed parts (the JSON encode with ``PayloadEncoder``, then the same `INSERT`),
///   each part and the commit timed apart.
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
        /// Counted rounds of the comparison with the relay following.
        var relayRounds: Int
        /// Transactions of each kind in the cost breakdown, per `synchronous` setting.
        var breakdownTransactions: Int
    }

    /// The size of a quick or a full run.
    static func size(quick: Bool) -> Size {
        // About 0.2 ms a transaction on a VM's disk (0.05 ms at NORMAL, 0.5 ms with the relay
        // following): a quick run, variants included, takes about 6 s, a full one under a
        // minute. Many short rounds rather than a few long ones, so that slow patches of the
        // disk fall on both sides.
        quick ? Size(members: 10_000, rounds: 20, transactionsPerRound: 250, relayRounds: 10, breakdownTransactions: 500)
              : Size(members: 10_000, rounds: 40, transactionsPerRound: 1_000, relayRounds: 20, breakdownTransactions: 2_000)
    }

    /// Runs the headline comparison, then its three variants, each in homes of its own.
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
        let headline = try HomePair(label: "outbox", migrations: migrations, members: size.members)
        let sides = try compare(headline, rounds: size.rounds, size: size)
        let check = try checkSameWork(runnel: headline.runnel, baseline: headline.baseline, transactions: sides.transactions)

        let normal = try HomePair(label: "outbox-normal", migrations: migrations, members: size.members)
        try Self.setSynchronous("NORMAL", on: normal.runnel)
        try Self.setSynchronous("NORMAL", on: normal.baseline)
        let normalSides = try compare(normal, rounds: size.rounds, size: size)
        _ = try checkSameWork(runnel: normal.runnel, baseline: normal.baseline, transactions: normalSides.transactions)

        let relayed = try compareWithRelay(migrations: migrations, size: size)
        let parts = try measureBreakdown(migrations: migrations, size: size)

        let roundRatios = sides.interleaved.roundRatios
        let normalRatio = normalSides.interleaved.runnel.rate / normalSides.interleaved.baseline.rate
        let normalRatios = normalSides.interleaved.roundRatios
        let relayRatio = relayed.runnel.rate / relayed.baseline.rate
        let relayRatios = relayed.roundRatios
        // What the outbox adds to one transaction, from the headline's rates.
        let addedUs = (1 / sides.interleaved.runnel.rate - 1 / sides.interleaved.baseline.rate) * 1e6
        let normalAddedUs = (1 / normalSides.interleaved.runnel.rate - 1 / normalSides.interleaved.baseline.rate) * 1e6
        func us(_ value: Double) -> String { FigureFormat.display(value) }
        func ratios(_ spread: (min: Double, median: Double, max: Double)) -> String {
            "\(FigureFormat.displayRatio(spread.min))–\(FigureFormat.displayRatio(spread.max))"
        }
        return SideBySideMeasurement(
            runnel: sides.interleaved.runnel.rate,
            baseline: sides.interleaved.baseline.rate,
            runnelLatency: sides.interleaved.runnel.latency.summary,
            baselineLatency: sides.interleaved.baseline.latency.summary,
            detail: [
                Figure("transactions_per_side", sides.interleaved.runnel.operations),
                Figure("rounds", size.rounds),
                Figure("round_ratio_min", roundRatios.min),
                Figure("round_ratio_median", roundRatios.median),
                Figure("round_ratio_max", roundRatios.max),
                Figure("warm_up_rounds", 1),
                Figure("members", size.members),
                Figure("outbox_rows", check.outboxRows),
                Figure("outbox_payload_bytes_avg", check.averagePayloadBytes),
                Figure("runnel_db_kib", check.runnelDatabaseKiB),
                Figure("baseline_db_kib", check.baselineDatabaseKiB),
                Figure("added_us_per_tx", addedUs),
                Figure("normal_runnel_tx_per_s", normalSides.interleaved.runnel.rate),
                Figure("normal_baseline_tx_per_s", normalSides.interleaved.baseline.rate),
                Figure("normal_ratio", normalRatio),
                Figure("normal_round_ratio_min", normalRatios.min),
                Figure("normal_round_ratio_max", normalRatios.max),
                Figure("normal_added_us_per_tx", normalAddedUs),
                Figure("relayed_runnel_tx_per_s", relayed.runnel.rate),
                Figure("relayed_baseline_tx_per_s", relayed.baseline.rate),
                Figure("relayed_ratio", relayRatio),
                Figure("relayed_round_ratio_min", relayRatios.min),
                Figure("relayed_round_ratio_max", relayRatios.max),
                Figure("relayed_rounds", size.relayRounds),
            ] + parts.figures,
            note: "\(size.rounds) rounds × \(size.transactionsPerRound) tx a side after 1 warm-up round, "
                + "round ratios \(ratios(roundRatios)); \(check.outboxRows) outbox rows of "
                + "\(FigureFormat.display(check.averagePayloadBytes)) B payload; the outbox adds \(us(addedUs)) µs a tx. "
                + "synchronous = NORMAL: \(FigureFormat.display(normalSides.interleaved.runnel.rate)) vs "
                + "\(FigureFormat.display(normalSides.interleaved.baseline.rate)) tx/s, ratio \(FigureFormat.displayRatio(normalRatio)) "
                + "(rounds \(ratios(normalRatios))), +\(us(normalAddedUs)) µs a tx. "
                + "Relay following: \(FigureFormat.display(relayed.runnel.rate)) vs \(FigureFormat.display(relayed.baseline.rate)) tx/s, "
                + "ratio \(FigureFormat.displayRatio(relayRatio)) (rounds \(ratios(relayRatios)), \(size.relayRounds) rounds). "
                + parts.note)
    }
}
