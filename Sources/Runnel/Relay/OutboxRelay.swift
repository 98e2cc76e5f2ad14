import Foundation
import GRDB
import Logging
import Metrics

/// Moves committed outbox rows of both databases into the log, exactly once and in id order.
///
/// The log is the home's file log, or with RunnelKafka a Kafka cluster
/// (`OutboxRelay(store:kafka:)`): the same records, partitions and rules either way; a Kafka
/// partition's tail is read back past the first waiting row, and exactly the rows found there
/// are skipped.
///
/// A cycle, per database: read up to ``Configuration/batchSize`` pending rows in id order; turn
/// each into a record (key, JSON payload as value, event time as timestamp, headers
/// `outbox-id`, `outbox-source`, `outbox-database`, `type`, `schema-version` and the event's
/// own); append one batch per partition; fsync them all (group commit); then, in one
/// transaction, delete the relayed rows and move rows that can never be relayed to
/// `runnel_outbox_dead_letters`. A following relay (``RelayService``) defers that transaction
/// (``relayOnce(deletingAfter:)``): its cycles read past the rows already relayed, and one
/// delete every few cycles forgets them all.
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
    /// Where the records go.
    package let destination: any RelayDestination
    public let configuration: Configuration
    private let logger: Logger
    /// The home's one-relay lock, held for the relay's life.
    private let lock: RunnerLock
    /// Set when a cycle failed part-way: what the destination holds must be learned again
    /// before the next cycle (a destination that failed to flush may hold some of the cycle's
    /// records and not others).
    private var needsRelearning = false
    /// Per source and partition: the largest outbox id already in the log, learned at start.
    private var alreadyInLog: [DatabaseRole: [PartitionKey: Appended]] = [:]
    /// Per database: the rows this relay has relayed (into the destination, to the dead letters,
    /// or found there already) and not yet deleted from the outbox. Cycles read past them.
    private var undeleted: [DatabaseRole: Undeleted] = [:]
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
    /// The most relayed rows of one database a deferring relay leaves in its outbox, however
    /// short a time ago they were relayed.
    static let maximumUndeletedRows = 65_536

    /// Rows of one database that are relayed but still in its outbox.
    private struct Undeleted {
        /// When the first of them was relayed.
        let since: ContinuousClock.Instant
        /// Every row up to this id is relayed.
        var upTo: Int64 = 0
        /// How many rows that is.
        var rows = 0
        /// The rows among them that go to the dead letters, not only out of the outbox, and why.
        var deadLetters: [(id: Int64, topic: String, reason: String)] = []

        /// Adds a cycle's rows, the last of them `upTo`.
        mutating func add(upTo last: Int64, rows count: Int, deadLetters dead: [(id: Int64, topic: String, reason: String)]) {
            upTo = last
            rows += count
            deadLetters += dead
        }
    }

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
    public convenience init(store: Store, log: Log, configuration: Configuration = Configuration(),
                            logger: Logger = Logger(label: "runnel.relay")) throws {
        try self.init(store: store, destination: LogDestination(log), configuration: configuration, logger: logger)
    }

    /// Creates a relay into any destination and learns from its tail what a previous run
    /// already wrote. Takes the home's relay lock: one relay empties the outboxes at a time,
    /// whatever its destination.
    package init(store: Store, destination: any RelayDestination, configuration: Configuration = Configuration(),
                 logger: Logger = Logger(label: "runnel.relay")) throws {
        lock = try RunnerLock.acquire(.relay, named: "outbox", in: store.home)
        self.store = store
        self.destination = destination
        self.configuration = configuration
        self.logger = logger
        for role in DatabaseRole.allCases {
            identities[role] = try store.database(role).read(DatabaseIdentity.read)
        }
        try learnAppended()
    }

    // MARK: - Start-up

    /// Reads the tail of every partition of the destination: for each database, the newest
    /// record of its own there (partitions receive a database's rows in id order, so that is
    /// the largest of its ids the partition holds). Pending rows up to that id are skipped.
    ///
    /// A remote destination (Kafka) is read further: back to a record of the database older
    /// than its first waiting row, keeping the exact ids found, so a row is skipped only if
    /// its own record is there — a gap (a batch that timed out while a later one of the same
    /// partition landed) costs a resend, never a row.
    private func learnAppended() throws {
        struct Outbox {
            var role: DatabaseRole
            var identity: DatabaseIdentity
            var firstPending: Int64?
            var handedOut: Int64
            var path: String
        }
        let outboxes = try DatabaseRole.allCases.map { role -> Outbox in
            let database = store.database(role)
            let (firstPending, handedOut) = try database.read { db in
                (try Int64.fetchOne(db, sql: "SELECT min(id) FROM runnel_outbox"),
                 try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'runnel_outbox'") ?? 0)
            }
            return Outbox(role: role, identity: identities[role]!, firstPending: firstPending, handedOut: handedOut, path: database.path)
        }
        try destination.prepareToReadTails()
        let remote = destination.tailIsRemote
        // Per database and topic, the distinct keys of its waiting rows: where a cycle can have
        // put records (a row without a key can be in any partition of its topic).
        var pendingKeys: [DatabaseRole: [String: Set<[UInt8]?>]] = [:]
        for role in DatabaseRole.allCases {
            for row in try store.database(role).read({ try Row.fetchAll($0, sql: "SELECT DISTINCT topic, CAST(key AS BLOB) AS key FROM runnel_outbox") }) {
                pendingKeys[role, default: [:]][row["topic"] as String, default: []].insert((row["key"] as Data?).map { Array($0) })
            }
        }
        let pending = Set(pendingKeys.values.flatMap(\.keys))
        var learned: [DatabaseRole: [PartitionKey: Appended]] = [:]
        for name in try destination.topicNames(pending: pending) {
            guard let topic = try destination.existingTopic(name) else { continue }
            // The partitions each database's waiting rows go to, once per topic.
            var reached: [DatabaseRole: Set<Int>] = [:]
            for (role, topics) in pendingKeys {
                guard let keys = topics[name] else { continue }
                reached[role] = keys.contains(nil) ? Set(0..<topic.partitions) : Set(keys.map { topic.partition(for: $0, sequence: 0) })
            }
            for partition in 0..<topic.partitions {
                // A remote tail is read only for the databases whose waiting rows go to this
                // partition: a database that never writes it would have the whole partition read.
                let wanted = remote ? outboxes.filter { reached[$0.role]?.contains(partition) ?? false } : outboxes
                guard !wanted.isEmpty else { continue }
                var newest: [DatabaseRole: Int64] = [:]
                var found: [DatabaseRole: Set<Int64>] = [:]
                var done = Set<DatabaseRole>()
                try destination.visitTail(of: name, partition: partition) { record in
                    for outbox in wanted where !done.contains(outbox.role)
                    && Self.source(of: record) == outbox.role && outbox.identity.owns(recordIdentity: record.header(Header.database)) {
                        guard let id = Self.outboxID(of: record) else { continue }
                        if newest[outbox.role] == nil { newest[outbox.role] = id }
                        // The file log's last batch tells all by its newest id; a remote tail
                        // is read back to an id before the first waiting row.
                        if !remote || id < outbox.firstPending ?? .max {
                            done.insert(outbox.role)
                        } else {
                            found[outbox.role, default: []].insert(id)
                        }
                    }
                    return done.count < wanted.count
                }
                for outbox in wanted {
                    guard let id = newest[outbox.role] else { continue }
                    // The log can never hold an id this file has not handed out yet, unless the
                    // file went back in time: its new rows would reuse relayed ids and be skipped.
                    if id > outbox.handedOut {
                        throw Self.wentBack(outbox.path, identity: outbox.identity, inLog: id, handedOut: outbox.handedOut,
                                            at: destination.location(of: name, partition: partition))
                    }
                    guard let firstPending = outbox.firstPending, id >= firstPending else { continue }
                    learned[outbox.role, default: [:]][PartitionKey(topic: name, partition: partition)] =
                        remote ? .ids(found[outbox.role] ?? []) : .upTo(id)
                    logger.notice("outbox rows found in the log after an interrupted run", metadata: [
                        "relay.source": "\(outbox.role)", "relay.database": "\(outbox.identity.id)", "relay.topic": "\(name)",
                        "relay.partition": "\(partition)", "relay.up_to_id": "\(id)",
                    ])
                }
            }
        }
        alreadyInLog = learned
    }

    /// What a partition already holds of a database's waiting rows.
    private enum Appended {
        /// Every id up to this one (the file log: a cycle's appends to a partition land whole or
        /// as a prefix, so the newest id tells all).
        case upTo(Int64)
        /// Exactly these ids (a remote destination, read back past the first waiting row).
        case ids(Set<Int64>)

        func contains(_ id: Int64) -> Bool {
            switch self {
            case .upTo(let last): id <= last
            case .ids(let ids): ids.contains(id)
            }
        }
    }

    /// The refusal for a database whose outbox ids went back behind what the log holds.
    private static func wentBack(_ path: String, identity: DatabaseIdentity, inLog id: Int64, handedOut: Int64, at location: String) -> RunnelError {
        RunnelError(.database,
                    "\(location) holds outbox id \(id) of \(path) (identity \(identity.id)), but that file has handed out ids only up to \(handedOut): it was restored from a backup or rolled back, and relaying it now would take its new rows for ones already in the log and drop them",
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
    ///
    /// A cycle that fails part-way (the destination could not make its records durable) leaves
    /// its rows in the outbox; the next cycle first learns again which of them the destination
    /// holds, so retrying neither loses nor doubles a row.
    ///
    /// - Parameter delay: How long relayed rows may stay in the outbox. Zero (the default)
    ///   deletes each database's relayed rows at the end of its cycle. Otherwise they stay
    ///   until the first of them was relayed `delay` ago (or 65,536 rows wait), and the cycles
    ///   between read past them: a following relay thus commits to the database and fsyncs it
    ///   once per `delay` rather than once per cycle. Rows a crash leaves behind are found in
    ///   the destination by the next relay and skipped, as after a crash between any append and
    ///   its delete. ``deleteRelayed()`` deletes them at once.
    public func relayOnce(deletingAfter delay: Duration = .zero) throws -> Summary {
        if needsRelearning {
            try learnAppended()
            needsRelearning = false
        }
        var summary = Summary()
        var finished = false
        defer {
            if !finished {
                // Nothing of the failed cycle may still be on its way when the tail is read again.
                destination.abandonUnflushed()
                needsRelearning = true
            }
        }
        for role in DatabaseRole.allCases {
            try relayCycle(role, into: &summary)
            if let waiting = undeleted[role],
               delay <= .zero || waiting.rows >= Self.maximumUndeletedRows || waiting.since.duration(to: .now) >= delay {
                try deleteRelayed(role)
            }
        }
        finished = true
        return summary
    }

    /// Deletes from both outboxes the rows relayed so far and moves those that could not be
    /// relayed to the dead letters: what ``relayOnce(deletingAfter:)`` left for later.
    public func deleteRelayed() throws {
        for role in DatabaseRole.allCases where undeleted[role] != nil {
            try deleteRelayed(role)
        }
    }

    private func deleteRelayed(_ role: DatabaseRole) throws {
        guard let relayed = undeleted[role] else { return }
        let database = store.database(role)
        try RunnelError.naming(database.path, "deleting relayed rows from the outbox of \(role.fileName) (ids up to \(relayed.upTo))") {
            try database.write { db in
                for dead in relayed.deadLetters {
                    try db.execute(sql: """
                        INSERT OR REPLACE INTO runnel_outbox_dead_letters
                            (id, topic, key, type, schema_version, payload, headers, event_time, created_at, reason, failed_at)
                        SELECT id, topic, key, type, schema_version, payload, headers, event_time, created_at, ?, ?
                        FROM runnel_outbox WHERE id = ?
                        """, arguments: [dead.reason, Date().millisecondsSince1970, dead.id])
                }
                // Ids follow commit order, so every row up to the last one read was read.
                try db.execute(sql: "DELETE FROM runnel_outbox WHERE id <= ?", arguments: [relayed.upTo])
            }
        }
        undeleted[role] = nil
        for dead in relayed.deadLetters {
            logger.warning("outbox row moved to dead letters", metadata: [
                "relay.source": "\(role)", "relay.outbox_id": "\(dead.id)", "relay.topic": "\(dead.topic)", "relay.reason": "\(dead.reason)",
            ])
        }
    }

    private func relayCycle(_ role: DatabaseRole, into summary: inout Summary) throws {
        let database = store.database(role)
        let after = undeleted[role]?.upTo ?? 0
        var rows = try database.read { try PendingRow.fetch($0, after: after, limit: configuration.batchSize) }
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

        // The records of each partition, in the order partitions were first met.
        var order: [PartitionKey] = []
        var groups: [[LogRecord]] = []
        var groupIndex: [PartitionKey: Int] = [:]
        var deadLetters: [(id: Int64, topic: String, reason: String)] = []
        var skipped = 0
        var topics: [String: RelayTopic] = [:]
        var commonHeaders = CommonHeaders(source: RecordHeader(Header.source, role.rawValue),
                                          database: RecordHeader(Header.database, identities[role]?.id ?? ""))
        let inLogForRole = alreadyInLog[role] ?? [:]
        // Most rows share their topic and partition with the row before; those skip the
        // dictionaries, whose hashing of the topic's name took a tenth of a cycle's own work.
        var lastTopic: (name: String, topic: RelayTopic)?
        var lastGroup: (target: PartitionKey, index: Int)?
        // Borrowed from the array: a copy of each row (five references retained, then released)
        // cost as much as the dictionaries the memos above skip.
        func place(_ row: borrowing PendingRow) throws {
            let topic: RelayTopic
            if let last = lastTopic, last.name == row.topic {
                topic = last.topic
            } else {
                if let known = topics[row.topic] {
                    topic = known
                } else {
                    topic = try destination.topic(row.topic, creatingWith: configuration.topicDefaults)
                    topics[row.topic] = topic
                }
                lastTopic = (row.topic, topic)
            }
            // A row that can never be relayed goes to the dead letters even when later rows of its
            // partition are in the log already: a crash can come after their append and before
            // its move, and the skip below would then delete it unrecorded.
            let record: LogRecord
            do {
                record = try makeRecord(row, headers: &commonHeaders)
            } catch {
                deadLetters.append((row.id, row.topic, "headers are not a JSON object of strings: \(error)"))
                return
            }
            let size = record.sizeInBytes
            guard size <= topic.maxRecordBytes else {
                deadLetters.append((row.id, row.topic, "record of \(size) bytes is over the limit of \(topic.maxRecordBytes) bytes of topic \(row.topic)"))
                return
            }
            let target = PartitionKey(topic: row.topic, partition: topic.partition(for: row.key, sequence: Int(row.id)))
            if !inLogForRole.isEmpty, let inLog = inLogForRole[target], inLog.contains(row.id) {
                skipped += 1
                return
            }
            let index: Int
            if let last = lastGroup, last.target == target {
                index = last.index
            } else {
                if let known = groupIndex[target] {
                    index = known
                } else {
                    index = groups.count
                    groupIndex[target] = index
                    order.append(target)
                    groups.append([])
                }
                lastGroup = (target, index)
            }
            groups[index].append(record)
        }
        for index in rows.indices {
            try place(rows[index])
        }

        if skipped > 0 {
            logger.notice("skipped outbox rows already in the log from an interrupted run", metadata: [
                "relay.source": "\(role)", "relay.skipped": "\(skipped)", "relay.last_id": "\(lastID)",
            ])
        }
        var relayed = 0
        for (index, target) in order.enumerated() {
            if index > 0 { Self.pauseBetweenPartitions.reach() }
            let records = groups[index]
            // Batches of at most `maximumBatchBytes`, in id order: the last batch of a partition
            // still holds the largest id appended to it, which is all start-up recovery reads.
            var start = 0
            while start < records.count {
                var end = start
                var bytes = 0
                while end < records.count {
                    let size = records[end].sizeInBytes
                    guard end == start || bytes + size <= Self.maximumBatchBytes else { break }
                    bytes += size
                    end += 1
                }
                try destination.append(records[start..<end], to: target.topic, partition: target.partition)
                start = end
            }
            relayed += records.count
        }
        try destination.flush()
        Self.pauseAfterAppend.reach()

        undeleted[role, default: Undeleted(since: .now)].add(upTo: lastID, rows: rows.count, deadLetters: deadLetters)
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
        /// The last row's, which most rows share: found without hashing.
        var lastType: (name: String, header: RecordHeader)?
        var lastVersion: (version: Int64, header: RecordHeader)?

        init(source: RecordHeader, database: RecordHeader) {
            self.source = source
            self.database = database
        }

        mutating func type(_ name: String) -> RecordHeader {
            if let last = lastType, last.name == name { return last.header }
            let header: RecordHeader
            if let known = types[name] {
                header = known
            } else {
                header = RecordHeader(Header.type, name)
                types[name] = header
            }
            lastType = (name, header)
            return header
        }

        mutating func version(_ version: Int64) -> RecordHeader {
            if let last = lastVersion, last.version == version { return last.header }
            let header: RecordHeader
            if let known = versions[version] {
                header = known
            } else {
                header = RecordHeader(Header.schemaVersion, String(version))
                versions[version] = header
            }
            lastVersion = (version, header)
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

    /// Rows waiting in both outboxes and the age of the oldest, for status commands and metrics:
    /// rows this relay has relayed and not yet deleted do not count.
    public func backlog(now: Date = Date()) throws -> (rows: Int, oldestAgeMs: Int64?) {
        let (rows, age) = try Self.backlog(of: store, now: now, after: undeleted.mapValues(\.upTo))
        backlogGauge.record(rows)
        oldestGauge.record(Double(age ?? 0) / 1000)
        return (rows, age)
    }

    /// Rows waiting in a home's outboxes and the age of the oldest, without a relay (one that
    /// cannot start yet still says what waits). Seen from outside a following relay this counts
    /// the rows it relayed but has not yet deleted too (at most its delete delay's worth).
    /// - Parameter after: Per database, the last id not to count.
    package static func backlog(of store: Store, now: Date = Date(), after: [DatabaseRole: Int64] = [:]) throws -> (rows: Int, oldestAgeMs: Int64?) {
        var rows = 0
        var oldest: Int64?
        for role in DatabaseRole.allCases {
            let (count, created) = try store.database(role).read { db in
                let row = try Row.fetchOne(db, sql: "SELECT count(*), min(created_at) FROM runnel_outbox WHERE id > ?", arguments: [after[role] ?? 0])
                return (row?[0] as Int? ?? 0, row?[1] as Int64?)
            }
            rows += count
            if let created { oldest = min(oldest ?? created, created) }
        }
        return (rows, oldest.map { now.millisecondsSince1970 - $0 })
    }
}
