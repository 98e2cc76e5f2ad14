import ArgumentParser
import Foundation
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
            _ = try TicketsCommand.openTickets(home)
            let store = try Store.open(home)
            let resolution = try tickets.resolve(id, inVersion: inVersion, note: note, by: by, store: store)
            let program = context.programName, flag = self.home.hintFlag
            context.console.print("ticket \(resolution.ticketId) of \(resolution.service): resolved"
                                  + (resolution.inVersion.map { " in \($0)" } ?? "") + ", recorded in the outbox")
            context.console.print("It applies when the relay and the tickets pipeline next run: `\(program) relay\(flag)`, "
                                  + "then `\(program) run \(tickets.pipelineName)\(flag)`.")
        }
    }
}
