import ArgumentParser
import Foundation
import GRDB
import Runnel

extension TicketsCommand {
    /// `runnel tickets show ID`: one ticket, all the pipeline knows of it.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a ticket: why its exceptions grouped, its history, owners, versions, hosts, hourly counts, and its first and latest exception.",
            discussion: "Times are ISO 8601 UTC; hourly counts cover the last 24 hours that have any of the ticket's exceptions.")

        @Argument(help: "The ticket's id, or the first 4 or more of its hex digits.") var id: String
        @OptionGroup var home: HomeOptions

        func run() throws {
            _ = try TicketsCommand.settings()
            let derived = try TicketsCommand.openTickets(home.resolved)
            let lines = try derived.read { db in
                let found = try ExceptionTickets.findTicket(id, in: db)
                return try Self.describe(found.id, in: db)
            }
            let console = CLIContext.current.console
            lines.forEach { console.print($0) }
        }

        /// The ticket's page, as lines.
        static func describe(_ id: String, in db: Database) throws -> [String] {
            guard let ticket = try Row.fetchOne(db, sql: "SELECT * FROM \(ExceptionTickets.ticketsTable) WHERE id = ?", arguments: [id]) else {
                throw RunnelError(.notFound, "no ticket has the id \(id)")
            }
            let iso = TicketsCommand.iso
            var lines: [String] = []
            let state: String = ticket["state"]
            let reason: String = ticket["open_reason"]
            lines.append("ticket \(id) · \(ticket["service"] as String) · \(state == "open" ? "open (\(reason))" : "resolved")")
            lines.append("title:        \(ticket["title"] as String)")
            lines.append("type:         \(ticket["exception_type"] as String)")
            let owners = TicketsCommand.owners(ticket["owners"])
            lines.append("owners:       \(owners.isEmpty ? "none" : owners)")
            lines.append("seen:         \(ticket["count"] as Int64) times, first \(iso(ticket["first_seen"])), last \(iso(ticket["last_seen"]))")
            let first = (ticket["first_version"] as String?) ?? "unknown"
            let last = (ticket["last_version"] as String?) ?? "unknown"
            var versions = "first seen in \(first), latest in \(last)"
            if state == "resolved" {
                versions += (ticket["resolved_in_version"] as String?).map { "; resolved in \($0): older versions do not reopen it" } ?? "; resolved in no particular version"
            }
            lines.append("versions:     \(versions)")

            lines.append("")
            lines.append("fingerprint \(ticket["fingerprint"] as String), why these exceptions grouped:")
            for part in (ticket["fingerprint_parts"] as String).split(separator: "\n") { lines.append("  \(part)") }

            lines.append("")
            lines.append("history:")
            let changes = try Row.fetchAll(db, sql: """
                SELECT change, at, version, note, by FROM \(ExceptionTickets.changesTable) WHERE ticket_id = ? ORDER BY seq
                """, arguments: [id])
            for change in changes {
                let kind: String = change["change"]
                var text = "  \(iso(change["at"]))  \(kind.padding(toLength: 9, withPad: " ", startingAt: 0))"
                if let version = change["version"] as String? { text += kind == "resolved" ? "  in \(version)" : "  from \(version)" }
                if let by = change["by"] as String? { text += "  by \(by)" }
                if let note = change["note"] as String? { text += "  — \(note)" }
                lines.append(text)
            }

            lines.append("")
            lines.append("hosts:")
            let hosts = try Row.fetchAll(db, sql: """
                SELECT host, count, first_seen, last_seen FROM \(ExceptionTickets.hostsTable) WHERE ticket_id = ? ORDER BY count DESC, host
                """, arguments: [id])
            let hostWidth = hosts.map { ($0["host"] as String).count }.max() ?? 0
            for host in hosts {
                let name: String = host["host"]
                lines.append("  \(name.padding(toLength: hostWidth, withPad: " ", startingAt: 0))  \(host["count"] as Int64)  (\(iso(host["first_seen"])) – \(iso(host["last_seen"])))")
            }
            let levels = try Row.fetchAll(db, sql: """
                SELECT level, sum(count) AS count FROM \(ExceptionTickets.levelsTable) WHERE ticket_id = ? GROUP BY level ORDER BY 2 DESC, 1
                """, arguments: [id])
            lines.append("levels:       " + levels.map { "\($0["level"] as String) \($0["count"] as Int64)" }.joined(separator: ", "))

            lines.append("")
            lines.append("hourly counts:")
            let hours = try Row.fetchAll(db, sql: """
                SELECT hour, count FROM \(ExceptionTickets.hoursTable) WHERE ticket_id = ? AND count > 0 ORDER BY hour DESC LIMIT 24
                """, arguments: [id]).reversed()
            let widest = hours.map { $0["count"] as Int64 }.max() ?? 1
            for hour in hours {
                let count: Int64 = hour["count"]
                let bar = String(repeating: "#", count: Int((count * 40 + widest - 1) / widest))
                lines.append("  \(iso(hour["hour"]))  \(String(count).leftPadded(to: String(widest).count))  \(bar)")
            }

            lines.append("")
            let version = { (version: String?) in version.map { ", version \($0)" } ?? "" }
            // The sample is the first exception the pipeline took, which opened the ticket.
            lines.append("sample exception (the first: \(ticket["sample_host"] as String), \(ticket["sample_level"] as String)"
                         + "\(version(ticket["first_version"]))):")
            lines.append(contentsOf: indented(ticket["sample_message"], ticket["sample_stack_trace"]))
            lines.append("")
            lines.append("latest exception (\(iso(ticket["latest_at"]))\(version(ticket["last_version"]))):")
            lines.append(contentsOf: indented(ticket["latest_message"], ticket["latest_stack_trace"]))
            return lines
        }

        /// A message and its trace, indented; the trace's first line is dropped when it only
        /// repeats the type and message.
        private static func indented(_ message: String, _ trace: String) -> [String] {
            var traceLines = trace.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if let first = traceLines.first, first.hasSuffix(": " + message) { traceLines.removeFirst() }
            return ["  " + message] + traceLines.map { "    " + $0.trimmingCharacters(in: .whitespaces) }
        }
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
