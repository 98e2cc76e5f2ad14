import Foundation
import GRDB

/// The queries behind the report and the dashboards, for the hours (24 in a report) ending with
/// one hour. Every query starts from the tickets (few) and reaches their hours, levels and changes
/// through those tables' primary keys, so a report costs the same however long the history grows.
package struct TicketTablesReader {
    let db: Database
    /// The hour reported, in milliseconds since 1970.
    package let hour: Int64
    /// How many hours the window spans, ending with ``hour``.
    package let hours: Int
    /// The first of the hours ending with ``hour``.
    var firstHour: Int64 { hour - Int64(hours - 1) * TicketTables.hour }

    /// A reader of the `hours` hours ending with the one holding `date`.
    /// - Throws: ``RunnelError`` `.tickets` when the tickets pipeline has not made its tables.
    package init(_ db: Database, hourEnding date: Date, hours: Int = 24) throws {
        try Self.requireTables(db)
        self.db = db
        self.hours = max(hours, 1)
        hour = ReportTime.hourStart(of: date) * 1_000
    }

    static func requireTables(_ db: Database) throws {
        for table in TicketTables.all where try !db.tableExists(table.name) {
            throw RunnelError(.tickets, "derived.sqlite has no \(table.name) table: the tickets pipeline has not run",
                              hint: "Relay the outbox and run the tickets pipeline first: `runnel relay` then `runnel run --all`")
        }
    }

    /// Each ticket's exceptions per hour over the window (one value per hour, oldest first), and
    /// each service's.
    package func window() throws -> (countsByTicket: [String: [Int64]], hourlyCounts: [ExceptionReport.ServiceHour]) {
        var counts: [String: [Int64]] = [:]
        var services: [String: [Int64]] = [:]
        let rows = try Row.fetchCursor(db, sql: """
            SELECT t.id, t.service, h.hour, h.count
            FROM \(ExceptionTickets.ticketsTable) t JOIN \(ExceptionTickets.hoursTable) h ON h.ticket_id = t.id AND h.hour BETWEEN ? AND ?
            """, arguments: [firstHour, hour])
        while let row = try rows.next() {
            let id: String = row[0], service: String = row[1], hourStart: Int64 = row[2], count: Int64 = row[3]
            let index = Int((hourStart - firstHour) / TicketTables.hour)
            // Hours are hour starts; anything else (a table written by hand) is left out.
            guard (hourStart - firstHour) % TicketTables.hour == 0, (0..<hours).contains(index) else { continue }
            counts[id, default: Array(repeating: 0, count: hours)][index] += count
            services[service, default: Array(repeating: 0, count: hours)][index] += count
        }
        let hourlyCounts = services.flatMap { service, counts in
            counts.enumerated().map { index, count in
                ExceptionReport.ServiceHour(service: service, hour: Date(millisecondsSince1970: firstHour + Int64(index) * TicketTables.hour), count: count)
            }
        }
        return (counts, hourlyCounts)
    }

    /// How each ticket opened in the hour, if it did: new (or returned after the baseline, which
    /// a report shows as new) wins over regressed when both happened.
    package func openedInHour() throws -> [String: ExceptionReport.Ticket.Change] {
        var changes: [String: ExceptionReport.Ticket.Change] = [:]
        let rows = try Row.fetchCursor(db, sql: """
            SELECT c.ticket_id, c.change
            FROM \(ExceptionTickets.ticketsTable) t JOIN \(ExceptionTickets.changesTable) c ON c.ticket_id = t.id
            WHERE c.hour = ? AND c.change IN ('new', 'returned', 'regressed')
            """, arguments: [hour])
        while let row = try rows.next() {
            let id: String = row[0], change: String = row[1]
            if changes[id] != .new { changes[id] = change == "regressed" ? .regressed : .new }
        }
        return changes
    }

    /// Exception type × level counts in the hour, over every ticket.
    package func typesByLevel() throws -> [ExceptionReport.TypeLevelCount] {
        try Row.fetchAll(db, sql: """
            SELECT t.exception_type, l.level, SUM(l.count)
            FROM \(ExceptionTickets.ticketsTable) t JOIN \(ExceptionTickets.levelsTable) l ON l.ticket_id = t.id AND l.hour = ?
            GROUP BY t.exception_type, l.level HAVING SUM(l.count) > 0
            """, arguments: [hour])
            .map { ExceptionReport.TypeLevelCount(exceptionType: $0[0], level: $0[1], count: $0[2]) }
    }

    /// Exception type × level counts over the whole window, over every ticket.
    package func typesByLevelOverWindow() throws -> [ExceptionReport.TypeLevelCount] {
        try Row.fetchAll(db, sql: """
            SELECT t.exception_type, l.level, SUM(l.count)
            FROM \(ExceptionTickets.ticketsTable) t JOIN \(ExceptionTickets.levelsTable) l ON l.ticket_id = t.id AND l.hour BETWEEN ? AND ?
            GROUP BY t.exception_type, l.level HAVING SUM(l.count) > 0
            """, arguments: [firstHour, hour])
            .map { ExceptionReport.TypeLevelCount(exceptionType: $0[0], level: $0[1], count: $0[2]) }
    }

    /// The tickets matching `condition` (over `t`, the tickets table), as the report shows them.
    package func tickets(where condition: String, arguments: StatementArguments, counts: [String: [Int64]],
                 changes: [String: ExceptionReport.Ticket.Change]) throws -> [ExceptionReport.Ticket] {
        try Row.fetchAll(db, sql: """
            SELECT t.id, t.service, t.owners, t.exception_type, t.sample_level, t.fingerprint, t.state, t.first_seen, t.last_seen,
                   t.sample_message, t.sample_stack_trace
            FROM \(ExceptionTickets.ticketsTable) t WHERE \(condition)
            """, arguments: arguments)
            .map { row in
                let id: String = row["id"]
                let owners = (row["owners"] as String).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
                let countsByHour = counts[id] ?? Array(repeating: 0, count: hours)
                return ExceptionReport.Ticket(
                    id: id, service: row["service"], owner: owners.isEmpty ? nil : owners.joined(separator: ", "),
                    exceptionType: row["exception_type"], level: row["sample_level"], fingerprint: row["fingerprint"],
                    change: changes[id] ?? .ongoing, state: row["state"],
                    firstSeen: Date(millisecondsSince1970: row["first_seen"]), lastSeen: Date(millisecondsSince1970: row["last_seen"]),
                    countLast24h: countsByHour.reduce(0, +), countsByHour: countsByHour,
                    sampleMessage: row["sample_message"], sampleStackTrace: row["sample_stack_trace"])
            }
    }
}
