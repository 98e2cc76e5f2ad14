#if canImport(GRDBSQLite)
import GRDBSQLite
#else
import SQLite3
#endif
import Foundation
import GRDB
import Runnel

/// `tickets`: grouping an hour's exceptions into tickets. Runnel's side fingerprints each
/// exception (``Fingerprinter``: its type and in-app frames, or its message's template) and
/// parameterises its message (``MessageTemplate``), counting exceptions per (service,
/// fingerprint) in a dictionary; the baseline is what plain SQLite offers for the same question,
/// `SELECT service, exception_type, message, count(*) FROM exceptions GROUP BY 1, 2, 3` over the
/// same raw rows in an in-memory table. The goal: at least SQLite's rate.
///
/// The two do not give the same answer, and that is the point of the comparison: SQLite's
/// groups are as many as the distinct raw messages (nearly one per exception, since messages
/// carry ids, UUIDs and durations), Runnel's as many as there are problems. Both must count
/// every exception once; the group counts are in the detail.
///
/// The exceptions (``ExceptionGenerator``: 12 kinds over 8 services, 20-frame JVM traces, about
/// 2 KB each) are made and inserted before the rounds; each round runs each side over all of
/// them, timed as a whole (a per-exception clock read would cost more than a tenth of the work).
///
/// Runnel's side parameterises every exception's message, as a title, even though a ticket store
/// would do it only for a ticket's first exception; a detail figure gives the rate of the latter
/// (one pass after the rounds, not part of the ratio).
///
/// Both sides work from memory; Runnel's reads every byte of each trace (about 2 KB), SQLite only
/// the three short columns at the start of each row, so Runnel's side is partly bound by memory
/// bandwidth and latency rather than by instructions.
struct TicketsScenario: Scenario {
    let name = "tickets"
    let summary = "exception fingerprints and message templates counted per service vs SQLite GROUP BY on the raw type and message"
    let unit = "exceptions/s"
    let goal = 1.0

    static let inAppPrefixes = ["com.example."]
    static let baselineSQL = "SELECT service, exception_type, message, count(*) FROM exceptions GROUP BY 1, 2, 3"

    /// How much one run does.
    struct Size {
        /// Exceptions, each grouped by both sides every round.
        var exceptions: Int
        /// Counted rounds.
        var rounds: Int
    }

    static func size(quick: Bool) -> Size {
        quick ? Size(exceptions: 20_000, rounds: 2) : Size(exceptions: 200_000, rounds: 4)
    }

    /// A ticket of Runnel's side: how many exceptions it counts and its title.
    struct Ticket {
        var count: Int
        var title: String
    }

    /// What one side found in a round.
    struct Answer: Equatable {
        var groups = 0
        var exceptions = 0
    }

    func run(quick: Bool) throws -> SideBySideMeasurement {
        let size = Self.size(quick: quick)
        var generator = ExceptionGenerator()
        let exceptions = (0..<size.exceptions).map { _ in generator.next() }
        let database = try DatabaseQueue()
        try Self.insert(exceptions, into: database)
        let fingerprinter = Fingerprinter(inAppPrefixes: Self.inAppPrefixes)

        var runnelAnswer = Answer()
        var baselineAnswer = Answer()
        let sides = try Interleaving(rounds: size.rounds, warmUpRounds: 1).run(
            input: { _ in exceptions },
            runnel: { exceptions, tally in
                let tickets = tally.time { Self.group(exceptions, with: fingerprinter) }
                runnelAnswer = Answer(groups: tickets.count, exceptions: tickets.values.reduce(0) { $0 + $1.count })
            },
            baseline: { _, tally in
                baselineAnswer = try tally.time { try Self.groupInSQLite(database) }
            })
        guard runnelAnswer.exceptions == size.exceptions, baselineAnswer.exceptions == size.exceptions else {
            throw BenchmarkError("\(name): Runnel counted \(runnelAnswer.exceptions) and SQLite \(baselineAnswer.exceptions) of \(size.exceptions) exceptions")
        }
        // Not part of the ratio: one more pass, titles made for new tickets only.
        let clock = ContinuousClock()
        let titlesStart = clock.now
        let newTitleTickets = Self.group(exceptions, with: fingerprinter, everyTitle: false)
        let newTitlesRate = Double(size.exceptions) / (clock.now - titlesStart).seconds
        guard newTitleTickets.count == runnelAnswer.groups else {
            throw BenchmarkError("\(name): \(newTitleTickets.count) tickets with titles for new tickets only, \(runnelAnswer.groups) otherwise")
        }

        let counted = Double(size.exceptions * size.rounds)
        let runnelRate = counted / sides.runnel.elapsed.seconds
        let baselineRate = counted / sides.baseline.elapsed.seconds
        let roundRatios = sides.roundRatios
        let traceBytes = exceptions.reduce(0) { $0 + $1.stackTrace.utf8.count }
        let averageTrace = Double(traceBytes) / Double(exceptions.count)
        return SideBySideMeasurement(
            runnel: runnelRate,
            baseline: baselineRate,
            detail: [
                Figure("exceptions_per_side", size.exceptions),
                Figure("rounds", size.rounds),
                Figure("services", ExceptionGenerator.services.count),
                Figure("kinds", ExceptionGenerator.kinds.count),
                Figure("trace_bytes_avg", averageTrace),
                Figure("runnel_tickets", runnelAnswer.groups),
                Figure("runnel_titles_for_new_tickets_only_per_s", newTitlesRate),
                Figure("sqlite_groups", baselineAnswer.groups),
                Figure("round_ratio_min", roundRatios.min),
                Figure("round_ratio_median", roundRatios.median),
                Figure("round_ratio_max", roundRatios.max),
            ],
            note: "\(size.rounds) rounds × \(size.exceptions) exceptions a side (\(ExceptionGenerator.kinds.count) kinds × "
                + "\(ExceptionGenerator.services.count) services, \(ExceptionGenerator.depth)-frame JVM traces of "
                + "\(FigureFormat.display(averageTrace)) B on average); Runnel: \(runnelAnswer.groups) tickets, "
                + "SQLite on raw messages: \(baselineAnswer.groups) groups; both counted every exception; "
                + "with titles for new tickets only (one pass, not in the ratio) Runnel does \(FigureFormat.display(newTitlesRate)) exceptions/s; "
                + "round ratios \(FigureFormat.displayRatio(roundRatios.min))–\(FigureFormat.displayRatio(roundRatios.max))")
    }

    /// Runnel's side: a fingerprint and a message template for each exception, counted per
    /// service and fingerprint, the template kept as the ticket's title.
    /// - Parameter everyTitle: Whether to parameterise every exception's message (the measured
    ///   side), or only the first of each ticket's, as a ticket store would (a detail figure).
    static func group(_ exceptions: [BenchException], with fingerprinter: Fingerprinter, everyTitle: Bool = true) -> [TicketKey: Ticket] {
        var tickets: [TicketKey: Ticket] = [:]
        for exception in exceptions {
            let fingerprint = fingerprinter.fingerprint(type: exception.type, message: exception.message, stackTrace: exception.stackTrace)
            let key = TicketKey(service: exception.service, fingerprint: fingerprint.id)
            if everyTitle || tickets[key] == nil {
                // A fingerprint without frames holds the template already.
                let title = fingerprint.message ?? MessageTemplate.parameterize(exception.message)
                tickets[key, default: Ticket(count: 0, title: title)].count += 1
            } else {
                tickets[key]?.count += 1
            }
        }
        return tickets
    }

    /// Which ticket an exception counts towards.
    struct TicketKey: Hashable {
        var service: String
        var fingerprint: String
    }

    /// The raw rows, in one transaction. Not timed.
    static func insert(_ exceptions: [BenchException], into database: DatabaseQueue) throws {
        try database.write { db in
            try db.execute(sql: "CREATE TABLE exceptions (service TEXT NOT NULL, exception_type TEXT NOT NULL, message TEXT NOT NULL, stack_trace TEXT NOT NULL)")
            let insert = try db.makeStatement(sql: "INSERT INTO exceptions VALUES (?, ?, ?, ?)")
            for exception in exceptions {
                try insert.execute(arguments: [exception.service, exception.type, exception.message, exception.stackTrace])
            }
        }
    }

    /// The baseline: the `GROUP BY`, stepped through SQLite's C API (GRDB's rows would add Swift
    /// work per group that is not SQLite's), each group's text columns read in place.
    static func groupInSQLite(_ database: DatabaseQueue) throws -> Answer {
        try database.read { db in
            let statement = try db.makeStatement(sql: baselineSQL)
            let handle = statement.sqliteStatement
            var answer = Answer()
            var textBytes = 0
            try withExtendedLifetime(statement) {
                while true {
                    let code = sqlite3_step(handle)
                    if code == SQLITE_DONE { break }
                    guard code == SQLITE_ROW else {
                        throw BenchmarkError("tickets: SQLite error \(code): \(String(cString: sqlite3_errmsg(db.sqliteConnection)))")
                    }
                    for column in Int32(0)..<3 {
                        _ = sqlite3_column_text(handle, column)
                        textBytes += Int(sqlite3_column_bytes(handle, column))
                    }
                    answer.groups += 1
                    answer.exceptions += Int(sqlite3_column_int64(handle, 3))
                }
                sqlite3_reset(handle)
            }
            precondition(textBytes > 0)
            return answer
        }
    }
}
