import Foundation
import GRDB

extension ExceptionTickets {
    /// The ticket whose id is `id`, or the only one whose id starts with it (4 characters or more).
    /// - Returns: The ticket's id and service, and its state (`open` or `resolved`).
    /// - Throws: ``RunnelError`` `.tickets` when the tickets pipeline has not run, `.notFound`
    ///   when no ticket has the id, `.invalidArgument` for a prefix that is too short or names
    ///   several tickets.
    public static func findTicket(_ id: String, in db: Database) throws -> (id: String, service: String, state: String) {
        guard try db.tableExists(ticketsTable) else {
            throw RunnelError(.tickets, "derived.sqlite has no tickets yet",
                              hint: "Relay the outbox and run the tickets pipeline first: `runnel relay` then `runnel run --all`")
        }
        let wanted = id.trimmingCharacters(in: .whitespaces).lowercased()
        guard wanted.count >= 4, wanted.allSatisfy(\.isHexDigit) else {
            throw RunnelError(.invalidArgument, "\"\(id)\" is not a ticket id",
                              hint: "Give a ticket's id (12 hex digits) or its first 4 or more, as `runnel tickets list` shows them")
        }
        let rows = try Row.fetchAll(db, sql: "SELECT id, service, state FROM \(ticketsTable) WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 6",
                                    arguments: [wanted.count, wanted])
        guard let first = rows.first else {
            throw RunnelError(.notFound, "no ticket has the id \(wanted)", hint: "`runnel tickets list --state all` lists every ticket")
        }
        guard rows.count == 1 else {
            throw RunnelError(.invalidArgument, "\(wanted) is the start of several tickets' ids: \(rows.map { $0["id"] as String }.joined(separator: ", "))",
                              hint: "Give more of the id")
        }
        return (first["id"], first["service"], first["state"])
    }

    /// Writes a resolution through the app outbox in `db`'s transaction, on ``topic`` keyed by the
    /// ticket's service, so the tickets pipeline applies it in order with the service's exceptions.
    /// - Throws: ``RunnelError`` from the outbox (`.notInWriteTransaction`, `.invalidEvent`).
    public func record(_ resolution: TicketResolved, in db: Database, outbox: Outbox = Outbox()) throws {
        _ = try outbox.append(OutboxEvent(topic: topic, key: resolution.service, type: Self.resolvedType, payload: resolution,
                                          eventTime: resolution.resolvedAt), in: db)
    }

    /// Resolves an open ticket: looks it up in `derived.sqlite` and writes a ``TicketResolved``
    /// through the app outbox. The ticket changes when the relay and the tickets pipeline next
    /// run; a rebuild applies the resolution again, from the log.
    /// - Parameters:
    ///   - id: The ticket's id or a unique prefix of it.
    ///   - inVersion: The service version the fix ships in: exceptions from older versions do not
    ///     reopen the ticket.
    ///   - note: Why, for the ticket's history.
    ///   - by: Who resolved it.
    ///   - at: When (now).
    ///   - store: The home: the ticket is read from its `derived.sqlite`, the resolution written to
    ///     its `app.sqlite`.
    /// - Throws: ``RunnelError`` as ``findTicket(_:in:)`` does, and `.tickets` for a ticket that
    ///   is resolved already.
    @discardableResult
    public func resolve(_ id: String, inVersion: String?, note: String?, by: String?, at: Date = Date(), store: Store) throws -> TicketResolved {
        let ticket = try store.derived.read { db in try Self.findTicket(id, in: db) }
        guard ticket.state == "open" else {
            throw RunnelError(.tickets, "ticket \(ticket.id) of \(ticket.service) is resolved already",
                              hint: "`runnel tickets show \(ticket.id)` shows when and in which version; it reopens by itself when the exception comes back")
        }
        if let inVersion, inVersion.trimmingCharacters(in: .whitespaces).isEmpty || inVersion.count > 100 {
            throw RunnelError(.invalidArgument, "\"\(inVersion)\" is not a version", hint: "Give the version as the service reports it, such as 2.4.1")
        }
        let resolution = TicketResolved(ticketId: ticket.id, service: ticket.service, inVersion: inVersion, note: note, resolvedBy: by, resolvedAt: at)
        try store.app.write { db in try record(resolution, in: db, outbox: store.outbox) }
        return resolution
    }
}
