import Foundation
import GRDB

/// Reads a ``HomeStatus``: from the databases (read-only connections), the log (a reader that
/// follows the files), the KV folders and the lock files. It locks and writes nothing, so it
/// can run beside every runner, as often as a dashboard asks.
///
/// Keep one reader for repeated reads (the dashboard does): its connections and the log's
/// segment lists are opened once and refreshed, so a read costs a few indexed queries and a
/// look at each partition folder.
package final class StatusReader: @unchecked Sendable {
    // @unchecked: `log` is guarded by `logLock`; `sharing` guards itself; the rest is immutable or Sendable.
    package let home: RunnelHome
    package let catalog: Catalog
    let app: any DatabaseReader
    let derived: any DatabaseReader
    private let logLock = NSLock()
    private var log: Log?
    /// The read that concurrent ``readShared()`` calls share.
    let sharing = SharedStatusRead()

    /// A reader over a home's databases, read-only.
    /// - Throws: ``RunnelError`` `.home` when the home has no databases yet.
    package convenience init(home: RunnelHome, catalog: Catalog) throws {
        try self.init(home: home, catalog: catalog, app: Store.openReadOnly(home, .app), derived: Store.openReadOnly(home, .derived))
    }

    /// A reader over databases the caller opened (a store's pools, in a process that also writes).
    package init(home: RunnelHome, catalog: Catalog, app: any DatabaseReader, derived: any DatabaseReader) {
        self.home = home
        self.catalog = catalog
        self.app = app
        self.derived = derived
    }

    /// Reads the status as of `now`, with the problems `check` finds in it.
    /// - Throws: ``RunnelError`` when a database or the log cannot be read.
    package func read(now: Date = Date(), check: StatusCheck = StatusCheck()) throws -> HomeStatus {
        // Offsets before the files: every record a committed offset counts is then in the files
        // as they are read, so lag is never negative, nor a runner seen ahead of the log.
        let consumers = try app.read { db in try ConsumerRows(db) }
        let locks = RunnerLock.HeldLocks.read()
        let log = try currentLog()
        let topics = try log.map(Self.topics) ?? []
        let nowMs = now.millisecondsSince1970
        var status = HomeStatus(
            readAt: nowMs, home: home.url.path,
            relayPid: RunnerLock.holder(of: home.logURL.appendingPathComponent(Log.lockName), in: locks),
            databases: try DatabaseRole.allCases.map { role in try outbox(of: role, now: nowMs) },
            topics: topics,
            pipelines: try pipelines(log: log, locks: locks),
            handlers: try catalog.handlers.map { handler in
                try consumer(HandlerRunner.consumerName(handler.name), named: handler.name, role: .handler, topics: handler.topics, rows: consumers,
                             log: log, locks: locks)
            },
            sagas: try sagas(consumers: consumers, log: log, locks: locks, now: now),
            kvStores: try kvStores(now: nowMs),
            schedules: try schedules(now: now),
            tickets: try tickets(now: nowMs),
            verifications: try app.read(Verifications.all))
        status.problems = check.problems(in: status)
        return status
    }

    /// The log, opened on first use (it may appear after the reader was made) and refreshed.
    private func currentLog() throws -> Log? {
        try logLock.withLock {
            if log == nil {
                guard FileManager.default.fileExists(atPath: home.logURL.path) else { return nil }
                log = try Log.openForReading(home.logURL)
            }
            guard let log else { return nil }
            // Topics created since: every folder with a topic.json.
            for name in try DurableFile.names(in: home.logURL, missingIsEmpty: true) where !name.hasPrefix(".") {
                guard let topic = try log.topic(name) else { continue }
                for partition in topic.partitions { try partition.refresh() }
            }
            return log
        }
    }

    // MARK: - Outboxes and topics

    private func outbox(of role: DatabaseRole, now: Int64) throws -> HomeStatus.DatabaseStatus {
        let database = role == .app ? app : derived
        return try RunnelError.naming(home.databaseURL(role).path, "reading the outbox for the status") {
            try database.read { db in
                let oldest = try Int64.fetchOne(db, sql: "SELECT min(created_at) FROM runnel_outbox")
                return HomeStatus.DatabaseStatus(
                    database: role.fileName,
                    outboxBacklog: try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_outbox") ?? 0,
                    oldestPendingMs: oldest.map { max(0, now - $0) },
                    outboxDeadLetters: try db.tableExists("runnel_outbox_dead_letters")
                        ? try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_outbox_dead_letters") ?? 0 : 0)
            }
        }
    }

    private static func topics(in log: Log) throws -> [HomeStatus.TopicStatus] {
        try log.topicNames.compactMap { name in
            guard let topic = try log.topic(name) else { return nil }
            var status = HomeStatus.TopicStatus(name: name, records: 0, bytes: 0, endOffsets: [], newestTimestamp: nil)
            for partition in topic.partitions {
                status.records += partition.endOffset - partition.startOffset
                status.bytes += Int64(partition.sizeInBytes)
                status.endOffsets.append(partition.endOffset)
                if let newest = partition.segmentSummaries.last(where: { $0.nextOffset > $0.baseOffset })?.maxTimestamp {
                    status.newestTimestamp = max(status.newestTimestamp ?? newest, newest)
                }
            }
            return status
        }
    }

    // MARK: - KV, schedules, tickets

    private func kvStores(now: Int64) throws -> [HomeStatus.KVStoreStatus] {
        try KVStoreFolder.all(in: home).map { folder in
            var status = HomeStatus.KVStoreStatus(store: folder.name)
            do {
                guard let version = try folder.currentVersion() else { return status }
                let manifest = try folder.manifest(of: version)
                status.version = version
                status.keys = manifest.keyCount
                status.bytes = manifest.fileSize
                status.builtAt = manifest.builtAt.millisecondsSince1970
                status.ageMs = max(0, now - manifest.builtAt.millisecondsSince1970)
            } catch {
                status.problem = "\(error)"
            }
            return status
        }
    }

    private func schedules(now: Date) throws -> [HomeStatus.ScheduleStatus] {
        let hasTable = try app.read { try $0.tableExists("runnel_schedule_runs") }
        return try catalog.schedules.map { schedule in
            let next = try schedule.expression().fireTimes(after: now, in: try schedule.timeZone()).first { _ in true }
            var status = HomeStatus.ScheduleStatus(entry: schedule.name, expression: schedule.cron, nextFireAt: next?.millisecondsSince1970)
            if hasTable, let row = try app.read({ db in
                try Row.fetchOne(db, sql: """
                    SELECT fire_time, outcome, reason FROM runnel_schedule_runs
                    WHERE entry = ? AND outcome NOT IN ('queued', 'running') ORDER BY fire_time DESC LIMIT 1
                    """, arguments: [schedule.name])
            }) {
                status.lastFireTime = row["fire_time"]
                status.lastOutcome = row["outcome"]
                status.lastReason = row["reason"]
            }
            return status
        }
    }

    private func tickets(now: Int64) throws -> HomeStatus.TicketsStatus? {
        guard catalog.tickets != nil else { return nil }
        let hour = now - now % 3_600_000
        return try derived.read { db in
            guard try db.tableExists(ExceptionTickets.ticketsTable), try db.tableExists(ExceptionTickets.changesTable) else {
                return HomeStatus.TicketsStatus(open: 0, newThisHour: 0, exceptionsThisHour: 0)
            }
            return HomeStatus.TicketsStatus(
                open: try Int.fetchOne(db, sql: "SELECT count(*) FROM \(ExceptionTickets.ticketsTable) WHERE state = 'open'") ?? 0,
                // From the tickets (few) through the other tables' primary keys, as the reports read them.
                newThisHour: try Int.fetchOne(db, sql: """
                    SELECT count(DISTINCT t.id) FROM \(ExceptionTickets.ticketsTable) t JOIN \(ExceptionTickets.changesTable) c ON c.ticket_id = t.id
                    WHERE c.at >= ? AND c.change IN ('new', 'returned', 'regressed')
                    """, arguments: [hour]) ?? 0,
                exceptionsThisHour: try Int64.fetchOne(db, sql: """
                    SELECT coalesce(sum(h.count), 0) FROM \(ExceptionTickets.ticketsTable) t
                    JOIN \(ExceptionTickets.hoursTable) h ON h.ticket_id = t.id AND h.hour = ?
                    """, arguments: [hour]) ?? 0)
        }
    }
}

// MARK: - Shared reads

extension StatusReader {
    /// Reads the status, or, when a read is already under way, waits for it and returns its
    /// result: a burst of requests (several dashboards polling at once) costs one read, and none
    /// waits behind a queue of reads of the same facts. The result is at most one read old.
    /// - Throws: What the read threw, to every caller that shared it.
    package func readShared() throws -> HomeStatus {
        let generation: Int? = sharing.condition.withLock {
            guard sharing.reading else {
                sharing.reading = true
                return nil
            }
            let waitingFor = sharing.generation
            while sharing.generation == waitingFor { sharing.condition.wait() }
            return sharing.generation
        }
        if generation != nil {
            return try sharing.condition.withLock { try sharing.last!.get() }
        }
        let result = Result { try read() }
        sharing.condition.withLock {
            sharing.last = result
            sharing.generation += 1
            sharing.reading = false
            sharing.condition.broadcast()
        }
        return try result.get()
    }
}

/// The read in progress that callers of ``StatusReader/readShared()`` wait for.
final class SharedStatusRead: @unchecked Sendable {
    // @unchecked: every field is touched holding `condition`.
    let condition = NSCondition()
    var reading = false
    var generation = 0
    var last: Result<HomeStatus, any Error>?
}
