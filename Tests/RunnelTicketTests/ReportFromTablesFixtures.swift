import Foundation
import GRDB
import Runnel
import RunnelTesting

/// A few hours of a small shop's exceptions, run through the tickets pipeline, for the reports
/// read from the tables. The hour reported is 2026-01-05T13 (``ReportFixtures/hour``); the
/// tickets, by what they do then:
///
/// - `timeout` (checkout): every hour from 10:00, and once at 14:02 — ongoing;
/// - `npe` (search): first seen at 13:05 — new;
/// - `ledger` (checkout): seen at 09:10, resolved in 2.0 at 10:30, back in 2.1 at 13:15 — regressed;
/// - `index` (search): seen at 11:40 only, resolved at 12:00 — ongoing, resolved, not on the dashboard;
/// - `parse` (search): seen the day before at 04:00, back at 13:50 after the 12-hour
///   baseline — returned, shown as new;
/// - `oom` (checkout): seen two days before only — open, on the dashboard but not in the report.
enum ReportFromTablesFixtures {
    typealias F = TicketPipelineFixtures

    static let hour13 = ReportFixtures.hour
    static let stem13 = "2026-01-05T13"
    static let baseline = TimeSpan.hours(12)

    static var tickets: ExceptionTickets { F.tickets(baseline: baseline) }

    static let npeType = "java.lang.NullPointerException"
    static let ledgerFrames = ["com.shop.pay.Ledger.post", "com.shop.pay.Checkout.submit"]
    static let ledgerType = "java.lang.IllegalStateException"
    static let ledgerMessage = "Ledger entry already posted"

    /// Minutes since 2026-01-05T00:00Z.
    static func at(_ hour: Int, _ minute: Int) -> Double { Double(hour * 60 + minute) }

    /// The exceptions sent, in the order sent.
    static var exceptions: [ShopException] {
        var sent: [ShopException] = []
        for hour in 10...13 {
            sent.append(F.exception(host: "web-1", at: at(hour, 3)))
            sent.append(F.exception(host: "web-2", at: at(hour, 31)))
        }
        sent.append(F.exception(host: "web-2", level: "warn", at: at(13, 45)))
        sent.append(F.exception(host: "web-1", at: at(14, 2)))
        sent += [("error", 5), ("error", 10), ("fatal", 20)].map { level, minute in
            F.exception("search", type: npeType, message: "null", frames: F.nullTrace, host: "search-1", level: level, at: at(13, minute))
        }
        sent.append(F.exception(type: ledgerType, message: ledgerMessage, frames: ledgerFrames, at: at(9, 10), version: "1.9"))
        sent += [15, 16].map { minute in
            F.exception(type: ledgerType, message: ledgerMessage, frames: ledgerFrames, level: "warn", at: at(13, minute), version: "2.1")
        }
        sent.append(F.exception("search", type: "java.io.IOException", message: "Index file truncated", frames: ["com.shop.search.Index.load"],
                                host: "search-2", at: at(11, 40)))
        sent += [at(-20, 0), at(13, 50)].map { minutes in
            F.exception("search", type: "java.lang.IllegalArgumentException", message: "Bad query", frames: ["com.shop.search.Query.parse"],
                        host: "search-1", level: "warn", at: minutes)
        }
        sent.append(F.exception(type: "java.lang.OutOfMemoryError", message: "Java heap space", frames: ["com.shop.pay.Report.build"], at: at(-48, 30)))
        return sent
    }

    /// The id the pipeline gives the ticket of these exceptions.
    static func ticketID(_ service: String, type: String, message: String, frames: [String]) -> String {
        let fingerprint = Fingerprinter(inAppPrefixes: ["com.shop."]).fingerprint(type: type, message: message, stackTrace: F.trace(frames))
        return ExceptionTickets.ticketID(service: service, fingerprint: fingerprint.id)
    }

    static var ledgerTicketID: String { ticketID("checkout", type: ledgerType, message: ledgerMessage, frames: ledgerFrames) }
    static var indexTicketID: String {
        ticketID("search", type: "java.io.IOException", message: "Index file truncated", frames: ["com.shop.search.Index.load"])
    }

    /// `ledger` resolved in 2.0 at 10:30, and `index` resolved for good at 12:00.
    static var resolutions: [TicketResolved] {
        [
            TicketResolved(ticketId: ledgerTicketID, service: "checkout", inVersion: "2.0", note: "idempotent posting", resolvedBy: "pay-team",
                           resolvedAt: F.day.addingTimeInterval(at(10, 30) * 60)),
            TicketResolved(ticketId: indexTicketID, service: "search", inVersion: nil, note: "disk replaced", resolvedBy: "search-team",
                           resolvedAt: F.day.addingTimeInterval(at(12, 0) * 60)),
        ]
    }

    /// A driver whose log holds the exceptions and the resolutions in time order, not yet run.
    static func driver(batchSize: Int = 1_000) throws -> PipelineTestDriver {
        let driver = try PipelineTestDriver(tickets.pipeline, batchSize: batchSize)
        var pending = resolutions.sorted { $0.resolvedAt < $1.resolvedAt }[...]
        for exception in exceptions.sorted(by: { $0.occurredAt < $1.occurredAt }) {
            while let next = pending.first, next.resolvedAt <= exception.occurredAt {
                try driver.send(next)
                pending = pending.dropFirst()
            }
            try driver.send(exception)
        }
        for resolution in pending { try driver.send(resolution) }
        return driver
    }

    /// `SELECT exception_type, level, COUNT(*)` over the exceptions sent in the hour starting
    /// at `hour`, computed in SQLite apart from the pipeline.
    static func typesByLevel(inHourStarting hour: Date) throws -> Set<String> {
        let db = try DatabaseQueue()
        return try db.write { db in
            try db.execute(sql: "CREATE TABLE raw (exception_type TEXT NOT NULL, level TEXT NOT NULL, occurred_at REAL NOT NULL)")
            for exception in exceptions {
                try db.execute(sql: "INSERT INTO raw VALUES (?, ?, ?)",
                               arguments: [exception.exceptionType, exception.level, exception.occurredAt.timeIntervalSince1970])
            }
            return Set(try Row.fetchAll(db, sql: """
                SELECT exception_type, level, COUNT(*) AS count FROM raw WHERE occurred_at >= ? AND occurred_at < ?
                GROUP BY exception_type, level
                """, arguments: [hour.timeIntervalSince1970, hour.timeIntervalSince1970 + 3_600])
                .map { "\($0["exception_type"] as String) \($0["level"] as String) \($0["count"] as Int)" })
        }
    }

    /// The bytes of every file in `folder`, by name.
    static func files(in folder: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where !name.hasPrefix(".") {
            files[name] = try Data(contentsOf: folder.appendingPathComponent(name))
        }
        return files
    }
}
