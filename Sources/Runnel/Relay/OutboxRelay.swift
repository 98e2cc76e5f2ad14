import Foundation
import GRDB
import Logging
import Metrics

/// Moves committed outbox rows of both databases into the log, exactly once and in id order.
///
/// A cycle, per database: read up to ``Configuration/batchSize`` pending rows in id order; turn
/// each into a record (key, JSON payload as value, event time as timestamp, headers
/// `outbox-id`, `outbox-source`, `outbox-database`, `type`, `schema-version` and the event's
/// own); append one batch per partition; fsync them all (group commit); then, in one
/// transaction, delete the relayed rows and move rows that can never be relayed to
/// `runnel_outbox_dead_letters`.
///
/// A crash between the append and the delete leaves rows both in the log and in the outbox.
/// On start the relay reads the last batch of every partition: since a partition receives rows
/// in id order, any pending row whose id is at most the largest id that batch holds for the same
/// database is already there and is skipped (see `docs/relay.md`). "The same database" is the
/// same file, not the same role: a rebuilt `derived.sqlite` hands out ids from 1 again, under a
/// new database identity.
public final class OutboxRelay: @unchecked Sendable {
    // @unchecked: mutable state is touched only from the one task running the relay; the
    // type is Sendable so that task can own it.
    /// How the relay batches and creates topics.
    public struct Configuration: Sendable {
        /// Rows read per database per cycle.
        public var batchSize: Int
        /// Settings of topics the relay creates on first use.
        public var topicDefaults: TopicConfiguration

        public init(batchSize: Int = 5_000, topicDefaults: TopicConfiguration = TopicConfiguration()) {
            self.batchSize = batchSize
            self.topicDefaults = topicDefaults
        }
    }

    /// What one drain did.
    public struct Summary: Sendable, Hashable {
        public var relayed = 0
        public var deadLettered = 0
        public var skippedAsAlreadyInLog = 0
        public var cycles = 0
    }

    public let store: Store
    public let log: Log
    public let configuration: Configuration
    private let logger: Logger
    /// Per source and partition: the largest outbox id already in the log, learned at start.
    private var alreadyInLog: [DatabaseRole: [PartitionKey: Int64]] = [:]
    /// Each database's identity, read at start: which of the log's records are its own.
    private var identities: [DatabaseRole: DatabaseIdentity] = [:]
    private let relayedCounter = Counter(label: "runnel_relay_rows_total")
    private let deadLetterCounter = Counter(label: "runnel_relay_dead_letters_total")
    private let backlogGauge = Gauge(label: "runnel_relay_backlog_rows")
    private let oldestGauge = Gauge(label: "runnel_relay_oldest_pending_seconds")

    /// The most payload and key bytes one cycle reads (more rows wait for the next cycle).
    static let maximumCycleBytes = 64 << 20
    /// The most record bytes in one appended batch (a batch's length field is 32-bit).
    static let maximumBatchBytes = 16 << 20

    /// Crash tests aim kills at the two windows where a cycle is half done: after some
    /// partitions' batches are appended and before the others are, and after every batch is
    /// appended and fsynced but before the rows are deleted (`FaultPoint`).
    static let pauseBetweenPartitions = FaultPoint("relay-between-partition-appends")
    static let pauseAfterAppend = FaultPoint("relay-after-append-before-delete")

    struct PartitionKey: Hashable {
        var topic: String
        var partition: Int
    }

    /// Creates a relay and learns from the log's tail what a previous run already appended.
    public init(store: Store, log: Log, configuration: Configuration = Configuration(),
                logger: Logger = Logger(label: "runnel.relay")) throws {
        precondition(log.isWritable, "the relay needs the log open for writing")
        self.store = store
        self.log = log
        self.configuration = configuration
        self.logger = logger
        for role in DatabaseRole.allCases {
            let identity = try store.database(role).read(DatabaseIdentity.read)
            identities[role] = identity
            alreadyInLog[role] = try learnAppended(role, identity: identity)
        }
    }

    // MARK: - Start-up

    private func learnAppended(_ role: DatabaseRole, identity: DatabaseIdentity) throws -> [PartitionKey: Int64] {
        let database = store.database(role)
        let (firstPending, handedOut) = try database.read { db in
            (try Int64.fetchOne(db, sql: "SELECT min(id) FROM runnel_outbox"),
             try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'runnel_outbox'") ?? 0)
        }
        var found: [PartitionKey: Int64] = [:]
        for name in log.topicNames {
            guard let topic = try log.topic(name) else { continue }
            for partition in topic.partitions {
                var largest: Int64?
                var highest: Int64 = 0
                for record in try partition.lastBatch()
                where Self.source(of: record) == role && identity.owns(recordIdentity: record.header(Header.database)) {
                    guard let id = Self.outboxID(of: record) else { continue }
                    highest = max(highest, id)
                    if let firstPending, id >= firstPending { largest = max(largest ?? id, id) }
                }
                // The log can never hold an id this file has not handed out yet, unless the file
                // went back in time: its new rows would reuse relayed ids and be skipped.
                if highest > handedOut {
                    throw Self.wentBack(database.path, identity: identity, inLog: highest, handedOut: handedOut, partition: partition)
                }
                if let largest {
                    found[PartitionKey(topic: name, partition: partition.partition)] = largest
                    logger.notice("outbox rows found in the log after an interrupted run", metadata: [
                        "relay.source": "\(role)", "relay.database": "\(identity.id)", "relay.topic": "\(name)",
                        "relay.partition": "\(partition.partition)", "relay.up_to_id": "\(largest)",
                    ])
                }
            }
        }
        return found
    }

    /// The refusal for a database whose outbox ids went back behind what the log holds.
    private static func wentBack(_ path: String, identity: DatabaseIdentity, inLog id: Int64, handedOut: Int64, partition: PartitionLog) -> RunnelError {
        RunnelError(.database,
                    "\(partition.folder.path) holds outbox id \(id) of \(path) (identity \(identity.id)), but that file has handed out ids only up to \(handedOut): it was restored from a backup or rolled back, and relaying it now would take its new rows for ones already in the log and drop them",
                    hint: "Run `runnel relay --new-identity \(URL(fileURLWithPath: path).lastPathComponent)` to give the file a new identity: every pending row is then relayed (rows the log held from before the restore arrive again, rather than new ones being lost)")
    }

    static func source(of record: LogRecord) -> DatabaseRole? {
        record.header(Header.source).flatMap { DatabaseRole(rawValue: String(decoding: $0, as: UTF8.self)) }
    }

    static func outboxID(of record: LogRecord) -> Int64? {
        record.header(Header.outboxID).flatMap { Int64(String(decoding: $0, as: UTF8.self)) }
    }

    /// The header names the relay writes on every record.
    package enum Header {
        package static let outboxID = "outbox-id"
        package static let source = "outbox-source"
        /// The ``DatabaseIdentity`` of the database whose outbox the row left.
        package static let database = "outbox-database"
        package static let type = "type"
        package static let schemaVersion = "schema-version"
    }

    // MARK: - Draining

    /// Relays until both outboxes are empty.
    @discardableResult
    public func drain() throws -> Summary {
        var total = Summary()
        while true {
            let cycle = try relayOnce()
            total.relayed += cycle.relayed
            total.deadLettered += cycle.deadLettered
            total.skippedAsAlreadyInLog += cycle.skippedAsAlreadyInLog
            total.cycles += cycle.cycles
            if cycle.relayed + cycle.deadLettered + cycle.skippedAsAlreadyInLog == 0 { return total }
        }
    }

    /// One cycle over each database.
    public func relayOnce() throws -> Summary {
        var summary = Summary()
        for role in DatabaseRole.allCases {
            try relayCycle(role, into: &summary)
        }
        return summary
    }

    private func relayCycle(_ role: DatabaseRole, into summary: inout Summary) throws {
        let database = store.database(role)
        var rows = try database.read { try PendingRow.fetch($0, limit: configuration.batchSize) }
        // Large rows: keep a cycle's memory bounded by leaving the rest for the next cycle.
        var cycleBytes = 0
        if let cut = rows.firstIndex(where: { row in
            cycleBytes += row.payload.count + (row.key?.count ?? 0)
            return cycleBytes > Self.maximumCycleBytes
        }) {
            rows.removeSubrange(max(cut, 1)...)
        }
        guard let lastID = rows.last?.id else { return }
        summary.cycles += 1

        var groups: [PartitionKey: [LogRecord]] = [:]
        var order: [PartitionKey] = []
        var deadLetters: [(PendingRow, String)] = []
        var skipped = 0
        var topics: [String: LogTopic] = [:]
        var commonHeaders = CommonHeaders(source: RecordHeader(Header.source, role.rawValue),
                                          database: RecordHeader(Header.database, identities[role]?.id ?? ""))
        for row in rows {
            let topic: LogTopic
            if let known = topics[row.topic] {
                topic = known
            } else {
                topic = try log.topic(row.topic, creatingWith: configuration.topicDefaults)
                topics[row.topic] = topic
            }
            let key = row.key
            let target = PartitionKey(topic: row.topic, partition: topic.partition(for: key, sequence: Int(row.id)))
            if let inLog = alreadyInLog[role]?[target], row.id <= inLog {
                skipped += 1
                continue
            }
            let record: LogRecord
            do {
                record = try makeRecord(row, headers: &commonHeaders)
            } catch {
                deadLetters.append((row, "headers are not a JSON object of strings: \(error)"))
                continue
            }
            guard record.sizeInBytes <= topic.configuration.maxRecordBytes else {
                deadLetters.append((row, "record of \(record.sizeInBytes) bytes is over the limit of \(topic.configuration.maxRecordBytes) bytes of topic \(row.topic)"))
                continue
            }
            if groups[target] == nil { order.append(target) }
            groups[target, default: []].append(record)
        }

        if skipped > 0 {
            logger.notice("skipped outbox rows already in the log from an interrupted run", metadata: [
                "relay.source": "\(role)", "relay.skipped": "\(skipped)", "relay.last_id": "\(lastID)",
            ])
        }
        var relayed = 0
        for (index, target) in order.enumerated() {
            if index > 0 { Self.pauseBetweenPartitions.reach() }
            guard let topic = topics[target.topic], let records = groups[target] else { continue }
            // Batches of at most `maximumBatchBytes`, in id order: the last batch of a partition
            // still holds the largest id appended to it, which is all start-up recovery reads.
            var start = 0
            while start < records.count {
                var end = start
                var bytes = 0
                while end < records.count, end == start || bytes + records[end].sizeInBytes <= Self.maximumBatchBytes {
                    bytes += records[end].sizeInBytes
                    end += 1
                }
                try topic.partitions[target.partition].append(Array(records[start..<end]))
                start = end
            }
            relayed += records.count
        }
        try log.flush()
        Self.pauseAfterAppend.reach()

        try RunnelError.naming(database.path, "deleting relayed rows from the outbox of \(role.fileName) (ids up to \(lastID))") {
            try database.write { db in
                for (row, reason) in deadLetters {
                    try db.execute(sql: """
                        INSERT OR REPLACE INTO runnel_outbox_dead_letters
                            (id, topic, key, type, schema_version, payload, headers, event_time, created_at, reason, failed_at)
                        SELECT id, topic, key, type, schema_version, payload, headers, event_time, created_at, ?, ?
                        FROM runnel_outbox WHERE id = ?
                        """, arguments: [reason, Date().millisecondsSince1970, row.id])
                }
                // Ids follow commit order, so every row up to the last one read was read.
                try db.execute(sql: "DELETE FROM runnel_outbox WHERE id <= ?", arguments: [lastID])
            }
        }
        for (row, reason) in deadLetters {
            logger.warning("outbox row moved to dead letters", metadata: [
                "relay.source": "\(role)", "relay.outbox_id": "\(row.id)", "relay.topic": "\(row.topic)", "relay.reason": "\(reason)",
            ])
        }
        summary.relayed += relayed
        summary.skippedAsAlreadyInLog += skipped
        summary.deadLettered += deadLetters.count
        relayedCounter.increment(by: relayed)
        deadLetterCounter.increment(by: deadLetters.count)
        logger.debug("relayed a batch", metadata: ["relay.source": "\(role)", "relay.batch.size": "\(rows.count)", "relay.last_id": "\(lastID)"])
    }

    /// Header values most rows share, built once per cycle rather than once per row.
    private struct CommonHeaders {
        let source: RecordHeader
        let database: RecordHeader
        var types: [String: RecordHeader] = [:]
        var versions: [Int64: RecordHeader] = [:]

        init(source: RecordHeader, database: RecordHeader) {
            self.source = source
            self.database = database
        }

        mutating func type(_ name: String) -> RecordHeader {
            if let known = types[name] { return known }
            let header = RecordHeader(Header.type, name)
            types[name] = header
            return header
        }

        mutating func version(_ version: Int64) -> RecordHeader {
            if let known = versions[version] { return known }
            let header = RecordHeader(Header.schemaVersion, String(version))
            versions[version] = header
            return header
        }
    }

    private func makeRecord(_ row: PendingRow, headers common: inout CommonHeaders) throws -> LogRecord {
        var headers = [
            RecordHeader(Header.outboxID, String(row.id)),
            common.source,
            common.database,
            common.type(row.type),
            common.version(row.schemaVersion),
        ]
        if let text = row.headers {
            var own = JSONText.flatStrings(text)
            if own == nil {
                var text = text
                own = try text.withUTF8 { try EventDecoder().decode([String: String].self, from: UnsafeRawBufferPointer($0)) }.map { ($0.key, $0.value) }
            }
            for (name, value) in (own ?? []).sorted(by: { $0.key < $1.key }) { headers.append(RecordHeader(name, value)) }
        }
        return LogRecord(timestamp: row.eventTime, key: row.key, value: row.payload, headers: headers)
    }

    // MARK: - Backlog

    /// Rows waiting in both outboxes and the age of the oldest, for status commands and metrics.
    public func backlog(now: Date = Date()) throws -> (rows: Int, oldestAgeMs: Int64?) {
        var rows = 0
        var oldest: Int64?
        for role in DatabaseRole.allCases {
            let (count, created) = try store.database(role).read { db in
                (try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_outbox") ?? 0,
                 try Int64.fetchOne(db, sql: "SELECT min(created_at) FROM runnel_outbox"))
            }
            rows += count
            if let created { oldest = min(oldest ?? created, created) }
        }
        let age = oldest.map { now.millisecondsSince1970 - $0 }
        backlogGauge.record(rows)
        oldestGauge.record(Double(age ?? 0) / 1000)
        return (rows, age)
    }
}
