import ArgumentParser
import Foundation
import GRDB
import Runnel

/// `runnel tickets …`: the exception tickets the catalog's tickets pipeline keeps in `derived.sqlite`.
struct TicketsCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "tickets",
            abstract: "List, show and resolve exception tickets, and tell their owners.",
            discussion: """
                One ticket per service and fingerprint, kept by the catalog's tickets pipeline in \
                derived.sqlite (docs/tickets.md). A ticket is named by its id or the first 4 or more \
                of its hex digits. Resolving writes a TicketResolved event through the app outbox: \
                the ticket changes when `\(CLIContext.current.programName) relay` and the tickets \
                pipeline next run. `notify` tells the owners of opened and reopened tickets, once each.
                """,
            subcommands: [
                List.self, Show.self, Resolve.self, TicketsNotifyCommand.self,
            ])
    }

    /// The catalog's tickets settings, or an error saying the catalog keeps none.
    static func settings() throws -> ExceptionTickets {
        let catalog = CLIContext.current.catalog
        guard let tickets = catalog.tickets else {
            throw RunnelError(.tickets, "the \(catalog.name) catalog keeps no exception tickets",
                              hint: "Pass tickets: ExceptionTickets(…) to the application's Catalog (docs/tickets.md)")
        }
        return tickets
    }

    /// `derived.sqlite` read-only, after checking that the tickets pipeline has made its tables.
    static func openTickets(_ home: RunnelHome) throws -> DatabaseQueue {
        let derived = try Store.openReadOnly(home, .derived)
        guard try derived.read({ try $0.tableExists(ExceptionTickets.ticketsTable) }) else {
            let pipeline = (try? settings().pipelineName) ?? "exception-tickets"
            throw RunnelError(.tickets, "derived.sqlite in \(home.url.path) has no tickets yet",
                              hint: "Relay the outbox and run the tickets pipeline first: `runnel relay` then `runnel run \(pipeline)`")
        }
        return derived
    }

    /// A time in milliseconds since 1970 as ISO 8601 UTC, to the second.
    static func iso(_ milliseconds: Int64) -> String {
        Date(millisecondsSince1970: milliseconds).iso8601()
    }

    /// A ticket's owners (stored one per line) as one field.
    static func owners(_ lines: String) -> String {
        lines.split(separator: "\n").joined(separator: ", ")
    }
}

extension TicketsCommand {
    /// `runnel tickets list`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List tickets, most recently seen first.",
            discussion: """
                last_hour_count is the ticket's exceptions in the latest hour that has any exceptions \
                at all. Times are ISO 8601 UTC in every format.
                """)

        enum State: String, ExpressibleByArgument, CaseIterable {
            case open, resolved, all
        }

        @Option(name: .long, help: "Which tickets: open, resolved or all.") var state: State = .open
        @Option(name: .long, help: ArgumentHelp("Only the tickets of this service.", valueName: "service")) var service: String?
        @OptionGroup var format: FormatOptions
        @OptionGroup var home: HomeOptions

        static let columns = ["id", "service", "fingerprint", "exception_type", "state", "owner", "first_seen", "last_seen", "count", "last_hour_count"]

        func run() throws {
            _ = try TicketsCommand.settings()
            let values = try Self.rows(state: state, service: service, in: try TicketsCommand.openTickets(home.resolved))
            RowPrinter(format: format.format, console: CLIContext.current.console).print(columns: Self.columns, rows: values)
        }

        /// The tickets as listed, in ``columns``' order, most recently seen first.
        static func rows(state: State, service: String?, in derived: any DatabaseReader) throws -> [[DatabaseValue]] {
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if state != .all {
                conditions.append("t.state = ?")
                _ = arguments.append(contentsOf: [state.rawValue])
            }
            if let service {
                conditions.append("t.service = ?")
                _ = arguments.append(contentsOf: [service])
            }
            let rows = try derived.read { db in
                // The latest hour found ticket by ticket, through the hours' primary key.
                let latest = try ExceptionReport.latestHour(in: db)?.millisecondsSince1970
                return try Row.fetchAll(db, sql: """
                    SELECT t.id, t.service, t.fingerprint, t.exception_type, t.state, t.owners, t.first_seen, t.last_seen, t.count,
                           coalesce(h.count, 0) AS last_hour_count
                    FROM \(ExceptionTickets.ticketsTable) t
                    LEFT JOIN \(ExceptionTickets.hoursTable) h ON h.ticket_id = t.id AND h.hour = ?
                    \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
                    ORDER BY t.last_seen DESC, t.id
                    """, arguments: [latest] + arguments)
            }
            return rows.map { row in
                let owners = TicketsCommand.owners(row["owners"])
                return [row["id"], row["service"], row["fingerprint"], row["exception_type"], row["state"],
                        owners.isEmpty ? .null : owners.databaseValue,
                        TicketsCommand.iso(row["first_seen"]).databaseValue, TicketsCommand.iso(row["last_seen"]).databaseValue,
                        row["count"], row["last_hour_count"]]
            }
        }
    }
}
