import Foundation
import GRDB
import Runnel

/// `/api/exceptions?hours=N`: exceptions per service per hour over the `N` hours ending with the
/// latest hour that has any, exception types by level over those hours, and the open tickets.
struct ExceptionsPayload: Encodable, Sendable {
    struct ServiceCounts: Encodable, Sendable {
        var service: String
        /// One count per hour, oldest first.
        var counts: [Int64]
    }

    struct TypeLevel: Encodable, Sendable {
        var exceptionType: String
        var level: String
        var count: Int64
    }

    var hours: Int
    /// The start of the latest hour with exceptions; nil when there are none yet.
    var latestHour: Date?
    /// The start of the first hour shown.
    var firstHour: Date?
    var services: [ServiceCounts]
    var typesByLevel: [TypeLevel]
    /// Most exceptions in the window first, then by id.
    var openTickets: [TicketSummary]

    /// The counts per service per hour, as the chart draws them.
    var serviceHours: [ExceptionReport.ServiceHour] {
        guard let firstHour else { return [] }
        return services.flatMap { entry in
            entry.counts.enumerated().map { index, count in
                ExceptionReport.ServiceHour(service: entry.service, hour: firstHour.addingTimeInterval(Double(index) * 3600), count: count)
            }
        }
    }

    /// Reads the window from the tickets pipeline's tables in `derived.sqlite`.
    /// - Throws: ``RunnelError`` `.tickets` when the tickets pipeline has not made its tables.
    static func read(hours: Int, in db: Database) throws -> ExceptionsPayload {
        // Before the tickets pipeline has run, or before any exception: an empty dashboard.
        guard try db.tableExists(ExceptionTickets.ticketsTable), let latest = try ExceptionReport.latestHour(in: db) else {
            return ExceptionsPayload(hours: hours, latestHour: nil, firstHour: nil, services: [], typesByLevel: [], openTickets: [])
        }
        let reader = try TicketTablesReader(db, hourEnding: latest, hours: hours)
        let window = try reader.window()
        let first = Date(millisecondsSince1970: reader.hour - Int64(hours - 1) * 3_600_000)
        var byService: [String: [Int64]] = [:]
        for entry in window.hourlyCounts {
            let index = Int((entry.hour.millisecondsSince1970 - first.millisecondsSince1970) / 3_600_000)
            byService[entry.service, default: Array(repeating: 0, count: hours)][index] += entry.count
        }
        let open = try reader.tickets(where: "t.state = 'open'", arguments: [], counts: window.countsByTicket, changes: [:])
            .sorted { ($0.countLast24h, $1.id) > ($1.countLast24h, $0.id) }
        return ExceptionsPayload(
            hours: hours, latestHour: Date(millisecondsSince1970: reader.hour), firstHour: first,
            services: byService.keys.sorted().map { ServiceCounts(service: $0, counts: byService[$0] ?? []) },
            typesByLevel: try reader.typesByLevelOverWindow()
                .sorted { ($0.exceptionType, $0.level) < ($1.exceptionType, $1.level) }
                .map { TypeLevel(exceptionType: $0.exceptionType, level: $0.level, count: $0.count) },
            openTickets: open.map(TicketSummary.init))
    }
}
