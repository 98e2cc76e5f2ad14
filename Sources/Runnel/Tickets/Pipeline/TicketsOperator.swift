import Foundation
import GRDB

/// The state of the tickets pipeline: every ticket in memory (they are few: one per service and
/// fingerprint), and what the batch in hand changed, written at its end in the batch's
/// transaction, with the announcements to the tickets topic.
///
/// Each decision about a ticket (open it, count it, call it returned or regressed, resolve it)
/// is made as its service's exceptions and resolutions come, in the order of their partition of
/// the log, so the tables do not depend on how batches cut the log.
final class TicketsOperator: PipelineOperator, EventTypeEmitting {
    private let settings: ExceptionTickets
    private var tickets: [String: Ticket] = [:]
    private var dirty: Set<String> = []
    private var hourDeltas: [HourKey: Int64] = [:]
    private var levelDeltas: [LevelKey: Int64] = [:]
    private var hostDeltas: [HostKey: (count: Int64, first: Int64, last: Int64)] = [:]
    private var changes: [Change] = []
    private var announcements: [TicketChange] = []

    var emittedEventTypes: [String] { ExceptionTickets.announcedTypes }

    var shape: String {
        "tickets topic \(settings.topic) announced on \(settings.ticketsTopic) baseline \(settings.baseline) lateness \(settings.lateness) "
            + "in-app [\(settings.fingerprinter.inAppPrefixes.joined(separator: ", "))]"
    }

    init(_ settings: ExceptionTickets) {
        self.settings = settings
    }

    // MARK: - Events

    func take(_ occurrence: ExceptionOccurrence, _ meta: EventMeta, _ graph: PipelineGraph) {
        let fingerprint = settings.fingerprinter.fingerprint(type: occurrence.exceptionType, message: occurrence.message, stackTrace: occurrence.stackTrace)
        let id = ExceptionTickets.ticketID(service: occurrence.service, fingerprint: fingerprint.id)
        let time = meta.time
        let hour = Self.hourStart(time)
        let owners = occurrence.owners.joined(separator: "\n")
        let partition = meta.input >= 0 ? graph.inputs[meta.input].partition : -1
        var ticket: Ticket
        if let existing = tickets[id] {
            ticket = existing
            if ticket.state == "resolved" {
                if time >= ticket.resolvedAt ?? .min, ServiceVersion.isAtLeast(occurrence.version, ticket.resolvedInVersion) {
                    open(&ticket, reason: .regressed, occurrence, at: time, hour: hour)
                }
            } else if time - ticket.lastSeen > settings.baseline.milliseconds {
                open(&ticket, reason: .returned, occurrence, at: time, hour: hour)
            }
            ticket.count += 1
            if time >= ticket.latestAt {
                ticket.latestAt = time
                ticket.latestMessage = occurrence.message
                ticket.latestStackTrace = occurrence.stackTrace
                ticket.lastVersion = occurrence.version
            }
            ticket.lastSeen = max(ticket.lastSeen, time)
            ticket.firstSeen = min(ticket.firstSeen, time)
            ticket.owners = owners
            ticket.partition = partition
        } else {
            ticket = Ticket(
                id: id, service: occurrence.service, fingerprint: fingerprint.id, parts: fingerprint.parts.joined(separator: "\n"),
                exceptionType: fingerprint.exceptionType, title: MessageTemplate.parameterize(occurrence.message), state: "open", owners: owners,
                firstSeen: time, lastSeen: time, count: 1, firstVersion: occurrence.version, lastVersion: occurrence.version,
                sampleHost: occurrence.host, sampleLevel: occurrence.level, sampleMessage: occurrence.message, sampleStackTrace: occurrence.stackTrace,
                latestAt: time, latestMessage: occurrence.message, latestStackTrace: occurrence.stackTrace,
                openings: 0, openedAt: time, openReason: TicketChange.Reason.new.rawValue, changes: 0, partition: partition)
            open(&ticket, reason: .new, occurrence, at: time, hour: hour)
        }
        tickets[id] = ticket
        dirty.insert(id)
        hourDeltas[HourKey(ticket: id, hour: hour), default: 0] += 1
        levelDeltas[LevelKey(ticket: id, hour: hour, level: occurrence.level), default: 0] += 1
        let host = HostKey(ticket: id, host: occurrence.host)
        if let seen = hostDeltas[host] {
            hostDeltas[host] = (seen.count + 1, min(seen.first, time), max(seen.last, time))
        } else {
            hostDeltas[host] = (1, time, time)
        }
    }

    /// Opens (or reopens) a ticket and announces it.
    private func open(_ ticket: inout Ticket, reason: TicketChange.Reason, _ occurrence: ExceptionOccurrence, at time: Int64, hour: Int64) {
        let resolvedAt = ticket.resolvedAt, resolvedInVersion = ticket.resolvedInVersion
        ticket.openings += 1
        ticket.openedAt = time
        ticket.openReason = reason.rawValue
        ticket.state = "open"
        ticket.resolvedAt = nil
        ticket.resolvedInVersion = nil
        ticket.resolvedBy = nil
        ticket.resolveNote = nil
        record(&ticket, change: reason.rawValue, at: time, hour: hour, version: occurrence.version, note: nil, by: nil)
        announcements.append(TicketChange(
            ticketId: ticket.id, service: ticket.service, fingerprint: ticket.fingerprint, exceptionType: ticket.exceptionType,
            title: ticket.title, reason: reason, opening: ticket.openings, at: Date(millisecondsSince1970: time),
            level: occurrence.level, host: occurrence.host, version: occurrence.version, message: occurrence.message,
            firstSeen: Date(millisecondsSince1970: min(ticket.firstSeen, time)),
            resolvedAt: reason == .regressed ? resolvedAt.map(Date.init(millisecondsSince1970:)) : nil,
            resolvedInVersion: reason == .regressed ? resolvedInVersion : nil,
            owners: occurrence.owners))
    }

    func take(_ resolution: TicketResolved, _ meta: EventMeta, _ graph: PipelineGraph) {
        guard var ticket = tickets[resolution.ticketId] else {
            graph.deadLetter("TicketResolved names ticket \(resolution.ticketId), which pipeline \(settings.pipelineName) has not opened")
            return
        }
        guard ticket.service == resolution.service else {
            graph.deadLetter("TicketResolved names ticket \(resolution.ticketId) of service \(resolution.service), but the ticket is of service \(ticket.service)")
            return
        }
        ticket.state = "resolved"
        ticket.resolvedAt = meta.time
        ticket.resolvedInVersion = resolution.inVersion
        ticket.resolvedBy = resolution.resolvedBy
        ticket.resolveNote = resolution.note
        record(&ticket, change: "resolved", at: meta.time, hour: Self.hourStart(meta.time), version: resolution.inVersion,
               note: resolution.note, by: resolution.resolvedBy)
        tickets[ticket.id] = ticket
        dirty.insert(ticket.id)
    }

    private func record(_ ticket: inout Ticket, change: String, at time: Int64, hour: Int64, version: String?, note: String?, by: String?) {
        ticket.changes += 1
        changes.append(Change(ticket: ticket.id, seq: ticket.changes, change: change, at: time, hour: hour, version: version, note: note, by: by))
    }

    // MARK: - State

    func restore(_ db: Database, graph: PipelineGraph) throws {
        tickets.removeAll()
        let rows = try Row.fetchCursor(db, sql: "SELECT * FROM \(ExceptionTickets.ticketsTable)")
        while let row = try rows.next() {
            let ticket = Ticket(row)
            tickets[ticket.id] = ticket
        }
        // Hours whose count changed since their last announcement, found at every batch's end.
        try db.execute(sql: """
            CREATE INDEX IF NOT EXISTS \(ExceptionTickets.hoursTable)_unannounced
            ON \(ExceptionTickets.hoursTable) (hour) WHERE count != announced_count
            """)
    }

    func flush(_ db: Database, graph: PipelineGraph) throws {
        let outbox = graph.store.outbox
        if !dirty.isEmpty {
            let upsert = try db.cachedStatement(sql: TicketTables.tickets.insertSQL)
            for id in dirty.sorted() {
                try upsert.execute(arguments: StatementArguments(tickets[id]!.values))
            }
            dirty.removeAll(keepingCapacity: true)
        }
        if !hourDeltas.isEmpty {
            let statement = try db.cachedStatement(sql: """
                INSERT INTO \(ExceptionTickets.hoursTable) (ticket_id, hour, count, announced_count) VALUES (?, ?, ?, 0)
                ON CONFLICT (ticket_id, hour) DO UPDATE SET count = count + excluded.count
                """)
            for (key, delta) in hourDeltas { try statement.execute(arguments: [key.ticket, key.hour, delta]) }
            hourDeltas.removeAll(keepingCapacity: true)
        }
        if !levelDeltas.isEmpty {
            let statement = try db.cachedStatement(sql: """
                INSERT INTO \(ExceptionTickets.levelsTable) (ticket_id, hour, level, count) VALUES (?, ?, ?, ?)
                ON CONFLICT (ticket_id, hour, level) DO UPDATE SET count = count + excluded.count
                """)
            for (key, delta) in levelDeltas { try statement.execute(arguments: [key.ticket, key.hour, key.level, delta]) }
            levelDeltas.removeAll(keepingCapacity: true)
        }
        if !hostDeltas.isEmpty {
            let statement = try db.cachedStatement(sql: """
                INSERT INTO \(ExceptionTickets.hostsTable) (ticket_id, host, count, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (ticket_id, host) DO UPDATE SET count = count + excluded.count,
                    first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)
                """)
            for (key, seen) in hostDeltas { try statement.execute(arguments: [key.ticket, key.host, seen.count, seen.first, seen.last]) }
            hostDeltas.removeAll(keepingCapacity: true)
        }
        if !changes.isEmpty {
            let insert = try db.cachedStatement(sql: TicketTables.changes.insertSQL)
            for change in changes {
                try insert.execute(arguments: [change.ticket, change.seq, change.change, change.at, change.hour, change.version, change.note, change.by])
            }
            changes.removeAll(keepingCapacity: true)
        }
        for change in announcements {
            try outbox.append(OutboxEvent(topic: settings.ticketsTopic, key: change.service, type: change.eventType, payload: change, eventTime: change.at), in: db)
        }
        announcements.removeAll(keepingCapacity: true)
        try announceClosedHours(db, graph: graph)
    }

    /// Announces the counts of every hour that has closed and changed since it was last
    /// announced. A ticket's hour closes when the event time read from its partition (its
    /// service's exceptions are all in one) has passed the hour's end plus the lateness: on-time
    /// exceptions of the hour can then no longer come, whatever other partitions are doing, so
    /// the count announced does not depend on where batches end, and a quiet service holds back
    /// only its own tickets.
    private func announceClosedHours(_ db: Database, graph: PipelineGraph) throws {
        var limits: [Int: Int64] = [:]
        for input in graph.inputs where input.topic == settings.topic {
            if let time = input.maxEventTime { limits[input.partition] = time - settings.lateness.milliseconds - TicketTables.hour }
        }
        guard !limits.isEmpty else { return }
        let rows = try Row.fetchAll(db, sql: """
            SELECT h.ticket_id, h.hour, h.count, t.partition FROM \(ExceptionTickets.hoursTable) h
            JOIN \(ExceptionTickets.ticketsTable) t ON t.id = h.ticket_id
            WHERE h.count != h.announced_count ORDER BY h.hour, h.ticket_id
            """)
        let total = try db.cachedStatement(sql: "SELECT sum(count) FROM \(ExceptionTickets.hoursTable) WHERE ticket_id = ? AND hour <= ?")
        let announced = try db.cachedStatement(sql: "UPDATE \(ExceptionTickets.hoursTable) SET announced_count = count WHERE ticket_id = ? AND hour = ?")
        for row in rows {
            let id: String = row["ticket_id"], hour: Int64 = row["hour"], partition: Int = row["partition"]
            guard let limit = limits[partition], hour <= limit, let ticket = tickets[id] else { continue }
            // Through the hour's end, not as of the batch: the same in every run, whatever the batches.
            let through = try Int64.fetchOne(total, arguments: [id, hour]) ?? 0
            let update = TicketCountsUpdated(ticketId: id, service: ticket.service, hour: Date(millisecondsSince1970: hour),
                                             count: row["count"], total: through)
            try graph.store.outbox.append(OutboxEvent(topic: settings.ticketsTopic, key: ticket.service, type: "TicketCountsUpdated",
                                                      payload: update, eventTime: Date(millisecondsSince1970: hour + TicketTables.hour)), in: db)
            try announced.execute(arguments: [id, hour])
        }
    }

    // MARK: - Values


    /// The start of the UTC hour holding `time` (times before 1970 round down too).
    static func hourStart(_ time: Int64) -> Int64 {
        time - ((time % TicketTables.hour) + TicketTables.hour) % TicketTables.hour
    }

    private struct HourKey: Hashable { let ticket: String, hour: Int64 }
    private struct LevelKey: Hashable { let ticket: String, hour: Int64, level: String }
    private struct HostKey: Hashable { let ticket: String, host: String }

    private struct Change {
        let ticket: String, seq: Int, change: String, at: Int64, hour: Int64
        let version: String?, note: String?, by: String?
    }

    /// A row of the tickets table.
    private struct Ticket {
        var id, service, fingerprint, parts, exceptionType, title, state, owners: String
        var firstSeen, lastSeen, count: Int64
        var firstVersion, lastVersion: String?
        var sampleHost, sampleLevel, sampleMessage, sampleStackTrace: String
        var latestAt: Int64
        var latestMessage, latestStackTrace: String
        var openings: Int
        var openedAt: Int64
        var openReason: String
        var resolvedAt: Int64?
        var resolvedInVersion, resolvedBy, resolveNote: String?
        var changes: Int
        var partition: Int

        init(id: String, service: String, fingerprint: String, parts: String, exceptionType: String, title: String, state: String, owners: String,
             firstSeen: Int64, lastSeen: Int64, count: Int64, firstVersion: String?, lastVersion: String?,
             sampleHost: String, sampleLevel: String, sampleMessage: String, sampleStackTrace: String,
             latestAt: Int64, latestMessage: String, latestStackTrace: String, openings: Int, openedAt: Int64, openReason: String, changes: Int,
             partition: Int) {
            self.id = id; self.service = service; self.fingerprint = fingerprint; self.parts = parts
            self.exceptionType = exceptionType; self.title = title; self.state = state; self.owners = owners
            self.firstSeen = firstSeen; self.lastSeen = lastSeen; self.count = count
            self.firstVersion = firstVersion; self.lastVersion = lastVersion
            self.sampleHost = sampleHost; self.sampleLevel = sampleLevel; self.sampleMessage = sampleMessage; self.sampleStackTrace = sampleStackTrace
            self.latestAt = latestAt; self.latestMessage = latestMessage; self.latestStackTrace = latestStackTrace
            self.openings = openings; self.openedAt = openedAt; self.openReason = openReason; self.changes = changes
            self.partition = partition
        }

        init(_ row: Row) {
            self.init(id: row["id"], service: row["service"], fingerprint: row["fingerprint"], parts: row["fingerprint_parts"],
                      exceptionType: row["exception_type"], title: row["title"], state: row["state"], owners: row["owners"],
                      firstSeen: row["first_seen"], lastSeen: row["last_seen"], count: row["count"],
                      firstVersion: row["first_version"], lastVersion: row["last_version"],
                      sampleHost: row["sample_host"], sampleLevel: row["sample_level"], sampleMessage: row["sample_message"],
                      sampleStackTrace: row["sample_stack_trace"], latestAt: row["latest_at"], latestMessage: row["latest_message"],
                      latestStackTrace: row["latest_stack_trace"], openings: row["openings"], openedAt: row["opened_at"],
                      openReason: row["open_reason"], changes: row["changes"], partition: row["partition"])
            resolvedAt = row["resolved_at"]
            resolvedInVersion = row["resolved_in_version"]
            resolvedBy = row["resolved_by"]
            resolveNote = row["resolve_note"]
        }

        /// The row's values in ``TicketTables/tickets``' column order.
        var values: [(any DatabaseValueConvertible)?] {
            [id, service, fingerprint, parts, exceptionType, title, state, owners, firstSeen, lastSeen, count, firstVersion, lastVersion,
             sampleHost, sampleLevel, sampleMessage, sampleStackTrace, latestAt, latestMessage, latestStackTrace,
             openings, openedAt, openReason, resolvedAt, resolvedInVersion, resolvedBy, resolveNote, changes, partition]
        }
    }
}
