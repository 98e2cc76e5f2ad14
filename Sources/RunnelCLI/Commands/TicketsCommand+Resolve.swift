import ArgumentParser
import Foundation
import GRDB
import Runnel

extension TicketsCommand {
    /// `runnel tickets resolve ID`: marks an open ticket fixed, through the app outbox.
    struct Resolve: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: "Resolve an open ticket, optionally in the version of the service the fix ships in.",
                discussion: """
                    Writes a TicketResolved event through the app outbox onto the exceptions topic, keyed by \
                    the service, so it is applied in order with the service's exceptions, and again by a \
                    rebuild. The ticket shows as resolved once `\(CLIContext.current.programName) relay` and the \
                    tickets pipeline have run. With --in-version, only exceptions from that version or later \
                    reopen it (as regressed); without, any later exception does.
                    """)
        }

        @Argument(help: "The ticket's id, or the first 4 or more of its hex digits.") var id: String
        @Option(name: .customLong("in-version"), help: ArgumentHelp("The service version the fix ships in.", valueName: "version"))
        var inVersion: String?
        @Option(name: .long, help: "Why, for the ticket's history.") var note: String?
        @Option(name: .long, help: ArgumentHelp("Who resolves it.", valueName: "name")) var by: String?
        @OptionGroup var home: HomeOptions

        func run() throws {
            let context = CLIContext.current
            let tickets = try TicketsCommand.settings()
            let home = home.resolved
            // Checked read-only first, so a mistyped --home is not created as an empty home.
            let ticket = try TicketsCommand.openTickets(home).read { db in try ExceptionTickets.findTicket(id, in: db) }
            let store = try Store.open(home)
            try Self.refuseIfPending(ticket.id, in: store, program: context.programName, flag: self.home.hintFlag)
            let resolution = try tickets.resolve(ticket.id, inVersion: inVersion, note: note, by: by, store: store)
            let program = context.programName, flag = self.home.hintFlag
            context.console.print("ticket \(resolution.ticketId) of \(resolution.service): resolved"
                                  + (resolution.inVersion.map { " in \($0)" } ?? "") + ", recorded in the outbox")
            context.console.print("It applies when the relay and the tickets pipeline next run: `\(program) relay\(flag)`, "
                                  + "then `\(program) run \(tickets.pipelineName)\(flag)`.")
        }

        /// A resolution still waiting in the app outbox has not reached the ticket: a second one
        /// would only replace its version and note, which is more likely a mistake than intended.
        static func refuseIfPending(_ id: String, in store: Store, program: String, flag: String) throws {
            let pending = try store.app.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_outbox WHERE type = ? AND json_extract(payload, '$.ticketId') = ?",
                                 arguments: [ExceptionTickets.resolvedType, id]) ?? 0
            }
            guard pending == 0 else {
                throw RunnelError(.tickets, "a resolution of ticket \(id) is already waiting in the outbox",
                                  hint: "Run `\(program) relay\(flag)` and the tickets pipeline; then `\(program) tickets show \(id)\(flag)` shows it resolved")
            }
        }
    }
}
