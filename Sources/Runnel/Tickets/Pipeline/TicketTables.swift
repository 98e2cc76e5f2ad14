/// The tables of the tickets pipeline in `derived.sqlite`. Times are milliseconds since 1970,
/// hours the start of the hour (UTC); text lists (owners, fingerprint parts) are joined with
/// line feeds.
enum TicketTables {
    /// An hour in milliseconds: the `hour` columns hold hour starts, multiples of it.
    static let hour: Int64 = 3_600_000

    private static func text(_ name: String) -> ColumnDefinition { ColumnDefinition(name: name, type: "TEXT", isNullable: false) }
    private static func optionalText(_ name: String) -> ColumnDefinition { ColumnDefinition(name: name, type: "TEXT", isNullable: true) }
    private static func integer(_ name: String) -> ColumnDefinition { ColumnDefinition(name: name, type: "INTEGER", isNullable: false) }
    private static func optionalInteger(_ name: String) -> ColumnDefinition { ColumnDefinition(name: name, type: "INTEGER", isNullable: true) }

    /// One row per ticket, in the column order ``TicketsOperator`` binds. `partition` is the
    /// exceptions topic's partition its service's exceptions are in (they are keyed by service):
    /// the ticket's hours close by that partition's event time.
    static let tickets = ReadViewTable(name: ExceptionTickets.ticketsTable, columns: [
        text("id"), text("service"), text("fingerprint"), text("fingerprint_parts"), text("exception_type"), text("title"),
        text("state"), text("owners"), integer("first_seen"), integer("last_seen"), integer("count"),
        optionalText("first_version"), optionalText("last_version"),
        text("sample_host"), text("sample_level"), text("sample_message"), text("sample_stack_trace"),
        integer("latest_at"), text("latest_message"), text("latest_stack_trace"),
        integer("openings"), integer("opened_at"), text("open_reason"),
        optionalInteger("resolved_at"), optionalText("resolved_in_version"), optionalText("resolved_by"), optionalText("resolve_note"),
        integer("changes"), integer("partition"),
    ], primaryKey: ["id"], mode: .upsert)

    /// Exceptions per ticket per hour; `announced_count` is the count last announced in a
    /// `TicketCountsUpdated`.
    static let hours = ReadViewTable(name: ExceptionTickets.hoursTable, columns: [
        text("ticket_id"), integer("hour"), integer("count"), integer("announced_count"),
    ], primaryKey: ["ticket_id", "hour"], mode: .upsert)

    static let levels = ReadViewTable(name: ExceptionTickets.levelsTable, columns: [
        text("ticket_id"), integer("hour"), text("level"), integer("count"),
    ], primaryKey: ["ticket_id", "hour", "level"], mode: .upsert)

    static let hosts = ReadViewTable(name: ExceptionTickets.hostsTable, columns: [
        text("ticket_id"), text("host"), integer("count"), integer("first_seen"), integer("last_seen"),
    ], primaryKey: ["ticket_id", "host"], mode: .upsert)

    /// `change` is `new`, `returned`, `regressed` or `resolved`; `seq` counts a ticket's
    /// changes from 1.
    static let changes = ReadViewTable(name: ExceptionTickets.changesTable, columns: [
        text("ticket_id"), integer("seq"), text("change"), integer("at"), integer("hour"),
        optionalText("version"), optionalText("note"), optionalText("by"),
    ], primaryKey: ["ticket_id", "seq"], mode: .append)

    static let all = [tickets, hours, levels, hosts, changes]
}
