import Foundation
import GRDB

extension ExceptionReport {
    /// Reads the report of one UTC hour from the tickets pipeline's tables in `derived.sqlite`.
    ///
    /// ```swift
    /// let report = try store.derived.read { db in
    ///     try ExceptionReport.read(hour: hour, title: catalog.name, from: db)
    /// }
    /// try Data(report.html().utf8).write(to: …)
    /// ```
    ///
    /// The tickets are those with exceptions in the 24 hours ending with the hour, and those
    /// opened (new, returned after the baseline, or regressed) in it; a ticket returned after the
    /// baseline shows as new. Each ticket's state, owners and first and last seen are as the
    /// ticket stands now; its counts and its change are those of the window. The result depends
    /// only on the tables, never on the clock (`docs/tickets.md`, *The hourly report*).
    /// - Parameters:
    ///   - hour: The hour to report; a time within the hour counts as its start.
    ///   - title: What the report is about (the catalog's name).
    ///   - db: A connection to `derived.sqlite`, in a read transaction so the report is consistent.
    /// - Throws: ``RunnelError`` `.tickets` when the tickets pipeline has not run; `DatabaseError`
    ///   when a read fails.
    public static func read(hour: Date, title: String, from db: Database) throws -> ExceptionReport {
        let reader = try TicketTablesReader(db, hourEnding: hour)
        let window = try reader.window()
        let opened = try reader.openedInHour()
        let tickets = try reader.tickets(where: """
            EXISTS (SELECT 1 FROM \(ExceptionTickets.hoursTable) h WHERE h.ticket_id = t.id AND h.hour BETWEEN ? AND ? AND h.count > 0)
            OR EXISTS (SELECT 1 FROM \(ExceptionTickets.changesTable) c WHERE c.ticket_id = t.id AND c.hour = ?
                       AND c.change IN ('new', 'returned', 'regressed'))
            """, arguments: [reader.firstHour, reader.hour, reader.hour], counts: window.countsByTicket, changes: opened)
        return ExceptionReport(title: title, hour: Date(millisecondsSince1970: reader.hour), tickets: tickets,
                               hourlyCounts: window.hourlyCounts, typesByLevel: try reader.typesByLevel())
    }

    /// The latest hour with exceptions in the tickets tables, the hour `runnel report exceptions`
    /// reports when not told which: the data may be far from now (a replayed log, the sample's
    /// days), and the hour before now would often be empty.
    /// - Returns: The start of the hour, or `nil` when there are no exceptions yet.
    /// - Throws: ``RunnelError`` `.tickets` when the tickets pipeline has not run.
    public static func latestHour(in db: Database) throws -> Date? {
        try TicketTablesReader.requireTables(db)
        // Per ticket through the primary key (ticket_id, hour): no scan of every hour of every ticket.
        let latest = try Int64.fetchOne(db, sql: """
            SELECT MAX((SELECT MAX(h.hour) FROM \(ExceptionTickets.hoursTable) h WHERE h.ticket_id = t.id AND h.count > 0))
            FROM \(ExceptionTickets.ticketsTable) t
            """)
        return latest.map(Date.init(millisecondsSince1970:))
    }

    /// The start of the UTC hour a file stem such as `2026-01-05T13` names, or `nil` when the
    /// text is not a stem (``fileStem`` is the inverse).
    public static func hour(fileStem: String) -> Date? {
        ReportTime.hourStart(fileStem: fileStem).map { Date(timeIntervalSince1970: Double($0)) }
    }
}

extension ExceptionDashboard {
    /// Reads the dashboard from the tickets pipeline's tables: every open ticket, with its counts
    /// and change over the 24 hours ending with `latestHour`, and the chart of those hours.
    /// - Parameters:
    ///   - latestHour: The newest hour reported; a time within the hour counts as its start.
    ///   - title: What the dashboard is about (the catalog's name).
    ///   - hours: The file stems of the hourly reports to link to.
    ///   - db: A connection to `derived.sqlite`, in a read transaction.
    /// - Throws: ``RunnelError`` `.tickets` when the tickets pipeline has not run; `DatabaseError`
    ///   when a read fails.
    public static func read(latestHour: Date, title: String, hours: [String], from db: Database) throws -> ExceptionDashboard {
        let reader = try TicketTablesReader(db, hourEnding: latestHour)
        let window = try reader.window()
        let tickets = try reader.tickets(where: "t.state = 'open'", arguments: [], counts: window.countsByTicket, changes: try reader.openedInHour())
        return ExceptionDashboard(title: title, hours: hours, openTickets: tickets, hourlyCounts: window.hourlyCounts,
                                  latestHour: Date(millisecondsSince1970: reader.hour))
    }
}
