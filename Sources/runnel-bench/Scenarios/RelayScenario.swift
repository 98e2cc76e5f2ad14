import Foundation
import Runnel
import RunnelTesting

/// `relay`: draining the app outbox into the log with ``OutboxRelay/drain()``, against the least
/// a relay must do without Runnel (read the rows, write and fsync their payloads to a plain
/// file, delete them).
///
/// The project's goals: at least 300K rows/s with 200-byte JSON events (a goal of the row
/// beside the ratio), and a ratio of at least 0.75: Runnel's side also turns each row into a
/// Kafka record with key, timestamp and four headers, checksums it and keeps the log's indexes,
/// which should cost at most a third more than the bare copy.
///
/// Two homes are filled with the same events by ``Outbox/append(_:in:)``, in large write
/// transactions, before each round (not timed). Runnel's side then drains its home: cycles of
/// 5,000 rows (the relay's default batch), each appended to the partition, fsynced, and deleted
/// from the outbox. The baseline runs the same cycles on the other home with a plain `SELECT *`,
/// `write` + `fsync` of the payload bytes, and a `DELETE`. Both databases commit with the
/// product's settings (WAL, `synchronous = FULL`).
struct RelayScenario: Scenario {
    let name = "relay"
    let summary = "relaying outbox rows (200-byte JSON events) into the log vs select + write/fsync + delete of the same rows"
    let unit = "rows/s"
    let goal = 0.75

    /// How much one run does.
    struct Size {
        /// Counted rounds, each filling and draining both outboxes.
        var rounds: Int
        /// Rows per counted round and side.
        var rowsPerRound: Int
        /// Rows of the warm-up round.
        var warmUpRows: Int
    }

    /// The size of a quick or a full run.
    static func size(quick: Bool) -> Size {
        // Filling costs about as much as relaying (a JSON encoding per row, in both homes):
        // 200K rows a side make a full run of a few seconds.
        quick ? Size(rounds: 2, rowsPerRound: 25_000, warmUpRows: 5_000)
              : Size(rounds: 4, rowsPerRound: 50_000, warmUpRows: 10_000)
    }

    func run(quick: Bool) throws -> SideBySideMeasurement {
        let runnelHome = try TemporaryHome(label: "bench-relay-runnel")
        let baselineHome = try TemporaryHome(label: "bench-relay-baseline")
        return try withExtendedLifetime((runnelHome, baselineHome)) {
            try measure(runnelHome: runnelHome, baselineHome: baselineHome, size: Self.size(quick: quick))
        }
    }

    private func measure(runnelHome: TemporaryHome, baselineHome: TemporaryHome, size: Size) throws -> SideBySideMeasurement {
        let runnelStore = try runnelHome.openStore()
        let baselineStore = try baselineHome.openStore()
        let log = try Log.open(runnelHome.home.logURL)
        let relay = try OutboxRelay(store: runnelStore, log: log)
        let baselineURL = baselineHome.folder.appendingPathComponent("baseline.log")
        let baselineFile = try PlainFile.create(baselineURL)

        let interleaving = Interleaving(rounds: size.rounds, warmUpRounds: 1)
        var filled = 0
        var payloadBytes = 0
        var cycles = 0
        let sides = try interleaving.run(
            input: { round in
                let rows = round < interleaving.warmUpRounds ? size.warmUpRows : size.rowsPerRound
                try Self.fill(runnelStore, from: filled, count: rows)
                try Self.fill(baselineStore, from: filled, count: rows)
                filled += rows
                let runnelPending = try Self.pending(runnelStore)
                let baselinePending = try Self.pending(baselineStore)
                guard runnelPending.rows == rows, runnelPending.rows == baselinePending.rows,
                      runnelPending.payloadBytes == baselinePending.payloadBytes else {
                    throw BenchmarkError("\(name): the outboxes hold \(runnelPending.rows) rows (\(runnelPending.payloadBytes) B) "
                        + "and \(baselinePending.rows) rows (\(baselinePending.payloadBytes) B); expected \(rows) rows each")
                }
                payloadBytes += runnelPending.payloadBytes
                return runnelPending
            },
            runnel: { round, tally in
                let summary = try tally.time { try relay.drain() }
                cycles += summary.cycles
                guard summary.relayed == round.rows, summary.deadLettered == 0, try Self.pending(runnelStore).rows == 0 else {
                    throw BenchmarkError("\(name): the relay moved \(summary.relayed) of \(round.rows) rows (\(summary.deadLettered) dead letters)")
                }
            },
            baseline: { round, tally in
                let moved = try tally.time { try Self.relayWithoutRunnel(baselineStore, into: baselineFile, batchSize: relay.configuration.batchSize) }
                guard moved.rows == round.rows, moved.payloadBytes == round.payloadBytes, try Self.pending(baselineStore).rows == 0 else {
                    throw BenchmarkError("\(name): the baseline moved \(moved.rows) of \(round.rows) rows, \(moved.payloadBytes) of \(round.payloadBytes) payload bytes")
                }
            })

        // Same work: every row of both outboxes is in the log, or in the plain file.
        guard let topic = try log.topic(BenchEvent.topic) else { throw BenchmarkError("\(name): the relay created no topic") }
        let inLog = topic.partitions.reduce(Int64(0)) { $0 + $1.endOffset }
        let logBytes = topic.partitions.reduce(0) { $0 + $1.sizeInBytes }
        guard inLog == Int64(filled), try PlainFile.size(of: baselineURL) == payloadBytes else {
            throw BenchmarkError("\(name): \(inLog) records in the log and \(try PlainFile.size(of: baselineURL)) bytes in the baseline file; "
                + "\(filled) rows of \(payloadBytes) payload bytes were appended")
        }
        try log.close()

        let countedRows = Double(size.rounds * size.rowsPerRound)
        let runnelRate = countedRows / sides.runnel.elapsed.seconds
        let baselineRate = countedRows / sides.baseline.elapsed.seconds
        let meetsGoal = runnelRate >= 300_000
        let roundRatios = sides.roundRatios
        return SideBySideMeasurement(
            runnel: runnelRate,
            baseline: baselineRate,
            goals: [Goal("≥ 300K rows/s", met: meetsGoal)],
            detail: [
                Figure("runnel_rows_per_s", runnelRate),
                Figure("baseline_rows_per_s", baselineRate),
                Figure("rows_per_side", Int(countedRows)),
                Figure("payload_bytes_avg", Double(payloadBytes) / Double(filled)),
                Figure("batch_rows", relay.configuration.batchSize),
                Figure("relay_cycles", cycles),
                Figure("log_bytes", logBytes),
                Figure("baseline_file_bytes", payloadBytes),
                Figure("rounds", size.rounds),
                Figure("round_ratio_min", roundRatios.min),
                Figure("round_ratio_median", roundRatios.median),
                Figure("round_ratio_max", roundRatios.max),
                Figure("warm_up_rows", size.warmUpRows),
            ],
            note: "\(size.rounds) rounds × \(size.rowsPerRound) rows a side after a \(size.warmUpRows)-row warm-up, "
                + "\(FigureFormat.display(Double(payloadBytes) / Double(filled))) B payloads, \(relay.configuration.batchSize)-row cycles; "
                + "runnel \(FigureFormat.display(runnelRate)) rows/s; "
                + "log \(FigureFormat.display(Double(logBytes) / 1e6)) MB vs \(FigureFormat.display(Double(payloadBytes) / 1e6)) MB of payloads; "
                + "round ratios \(FigureFormat.displayRatio(roundRatios.min))–\(FigureFormat.displayRatio(roundRatios.max))")
    }
}
