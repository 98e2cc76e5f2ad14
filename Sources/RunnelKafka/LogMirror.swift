import CRdKafka
import Foundation
import GRDB
import Logging
import Runnel

/// Copies the home's log into a Kafka cluster record for record — key, value, headers and
/// timestamp unchanged, each partition into the same partition of a topic of the same name and
/// partition count — the way onto Kafka for an installation that is running (MirrorMaker's job).
///
/// Exactly once across crashes: after each batch is acknowledged, the mirror stores in
/// `runnel_log_mirrors` (app.sqlite) how far it read each partition and where the cluster's
/// partition then ended. On start, a partition that grew past that end holds records the
/// previous run delivered but had not stored yet: they are read back, matched record for
/// record against the log, and skipped. Anything else in that place (another producer's
/// records, a partition that shrank) is refused with an error.
///
/// Used from one thread at a time.
final class LogMirror {
    let store: Store
    private let log: Log
    private let destination: KafkaDestination
    private let topics: Set<String>?
    private let cluster: String
    private let logger: Logger
    private var positions: [Key: Position] = [:]
    private var needsReconciling = true

    /// Crash tests kill the mirror here: its records acknowledged, their positions not stored.
    static let pauseAfterDelivery = FaultPoint("mirror-after-delivery-before-store")

    /// Records one cycle copies from a partition at most.
    static let maximumRecordsPerCycle = 50_000

    private struct Key: Hashable, Comparable {
        var topic: String
        var partition: Int
        static func < (a: Key, b: Key) -> Bool { (a.topic, a.partition) < (b.topic, b.partition) }
    }

    private struct Position {
        /// The next offset of the log to copy.
        var next: Int64
        /// The cluster partition's end after the last stored delivery.
        var destinationEnd: Int64
        var records: Int64
    }

    init(store: Store, settings: KafkaSettings, topics: [String]?, logger: Logger) throws {
        self.store = store
        self.logger = logger
        self.topics = topics.map(Set.init)
        try FileManager.default.createDirectory(at: store.home.logURL, withIntermediateDirectories: true)
        log = try Log.openForReading(store.home.logURL)
        destination = try KafkaDestination(settings: settings, logFolder: store.home.logURL, logger: logger)
        guard let id = destination.reader.handle.clusterID() else {
            throw KafkaFailure.error(RD_KAFKA_RESP_ERR__TRANSPORT, doing: "telling its cluster id", settings: settings,
                                     detail: "no broker answered within \(settings.requestTimeout)")
        }
        cluster = "kafka:\(id)"
        if let topics {
            for topic in topics where try log.topic(topic) == nil {
                throw RunnelError(.notFound, "no topic \(topic) in the log at \(log.folder.path) to mirror",
                                  hint: "`runnel log list` shows the log's topics")
            }
        }
    }

    // MARK: - Positions

    private func loadPositions() throws {
        let rows = try store.app.read { db in
            try Row.fetchAll(db, sql: "SELECT topic, partition, next_offset, destination_end, records FROM runnel_log_mirrors WHERE destination = ?",
                             arguments: [cluster])
        }
        positions = Dictionary(uniqueKeysWithValues: rows.map {
            (Key(topic: $0["topic"], partition: $0["partition"]), Position(next: $0["next_offset"], destinationEnd: $0["destination_end"], records: $0["records"]))
        })
    }

    private func store(_ keys: some Sequence<Key>) throws {
        let now = Date().millisecondsSince1970
        try RunnelError.naming(store.app.path, "storing how far the log is mirrored into \(destination.name)") {
            try store.app.write { db in
                for key in keys {
                    guard let position = positions[key] else { continue }
                    try db.execute(sql: """
                        INSERT INTO runnel_log_mirrors (destination, topic, partition, next_offset, destination_end, records, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (destination, topic, partition) DO UPDATE SET next_offset = excluded.next_offset,
                            destination_end = excluded.destination_end, records = excluded.records, updated_at = excluded.updated_at
                        """, arguments: [cluster, key.topic, key.partition, position.next, position.destinationEnd, position.records, now])
                }
            }
        }
    }

    /// Brings every stored position in line with the cluster: records delivered after the last
    /// store are matched against the log and skipped.
    private func reconcile(into summary: inout LogMirrorSummary) throws {
        try destination.prepareToReadTails()
        try loadPositions()
        var changed: [Key] = []
        for key in positions.keys.sorted() {
            guard var position = positions[key] else { continue }
            let end = try destination.reader.watermarks(key.topic, key.partition).high
            if end < position.destinationEnd {
                throw RunnelError(.kafkaRefused,
                                  "\(destination.location(of: key.topic, partition: key.partition)) ends at offset \(end), but the mirror delivered records up to offset \(position.destinationEnd - 1) there: the topic was deleted and made again, or the cluster lost records",
                                  hint: "Mirror into a new topic, or delete its rows from runnel_log_mirrors in app.sqlite to mirror the log into it from the start again")
            }
            guard end > position.destinationEnd else { continue }
            let found = try matchDelivered(key, from: position, to: end)
            position.next = found.next
            position.records += end - position.destinationEnd
            summary.alreadyMirrored += Int(end - position.destinationEnd)
            position.destinationEnd = end
            positions[key] = position
            changed.append(key)
            logger.notice("records an interrupted mirror delivered were found in the cluster", metadata: [
                "mirror.topic": "\(key.topic)", "mirror.partition": "\(key.partition)", "mirror.records": "\(found.count)",
            ])
        }
        try store(changed)
    }

    /// Reads the cluster's records from the stored end to `end` and the log's from the stored
    /// offset, one against the other. Returns the log offset after the last match.
    private func matchDelivered(_ key: Key, from position: Position, to end: Int64) throws -> (next: Int64, count: Int) {
        var delivered: [LogRecord] = []
        _ = try destination.reader.read(key.topic, key.partition, from: position.destinationEnd, to: end) { message in
            delivered.append(KafkaReader.record(of: message))
            return true
        }
        destination.reader.stop(key.topic, key.partition)
        guard let partition = try log.topic(key.topic)?.partitions[key.partition] else {
            throw RunnelError(.notFound, "the log at \(log.folder.path) no longer has topic \(key.topic), which the mirror was copying")
        }
        var next = position.next
        var matched = 0
        while matched < delivered.count {
            let before = matched
            next = try partition.read(from: next) { view in
                let local = view.record
                let remote = delivered[matched]
                guard local.key == remote.key, local.value == remote.value, local.headers == remote.headers, local.timestamp == remote.timestamp else {
                    throw RunnelError(.kafkaRefused,
                                      "\(destination.location(of: key.topic, partition: key.partition)) holds at offset \(remote.offset) a record that is not the log's record at offset \(local.offset): something other than this home's mirror writes into the topic",
                                      hint: "Mirror into a topic that nothing else produces to")
                }
                matched += 1
                return matched < delivered.count
            }
            if matched == before {
                throw RunnelError(.kafkaRefused,
                                  "\(destination.location(of: key.topic, partition: key.partition)) holds \(delivered.count - matched) more record(s) after offset \(position.destinationEnd + Int64(matched) - 1) than the log has mirrored: something other than this home's mirror writes into the topic",
                                  hint: "Mirror into a topic that nothing else produces to")
            }
        }
        return (next, matched)
    }

    // MARK: - Copying

    /// The log's topics this mirror copies, as they are now (topics appear as the relay makes them).
    private func mirroredTopics() throws -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: log.folder.path)) ?? []
        return try names.sorted().filter { name in
            guard topics?.contains(name) ?? true else { return false }
            return try log.topic(name) != nil
        }
    }

    /// Copies what the log holds beyond the stored positions, up to
    /// ``maximumRecordsPerCycle`` per partition, and stores the new positions once the cluster
    /// acknowledged every record.
    func mirrorOnce() throws -> LogMirrorSummary {
        var summary = LogMirrorSummary()
        if needsReconciling {
            try reconcile(into: &summary)
            needsReconciling = false
        }
        var finished = false
        defer {
            if !finished {
                // Nothing of the failed cycle may still be on its way when positions are reconciled.
                destination.abandonUnflushed()
                needsReconciling = true
            }
        }
        var copied: [Key: (next: Int64, records: Int)] = [:]
        for name in try mirroredTopics() {
            guard let topic = try log.topic(name) else { continue }
            var first = true
            for partition in topic.partitions {
                let key = Key(topic: name, partition: partition.partition)
                if positions[key] == nil {
                    if first {
                        _ = try destination.topic(name, creatingWith: topic.configuration)
                        first = false
                    }
                    try start(key, at: partition)
                }
                try partition.refresh()
                guard var next = positions[key]?.next else { continue }
                if next < partition.startOffset {
                    summary.lostToRetention += partition.startOffset - next
                    logger.warning("retention deleted records of the log before the mirror copied them", metadata: [
                        "mirror.topic": "\(name)", "mirror.partition": "\(partition.partition)", "mirror.records_lost": "\(partition.startOffset - next)",
                    ])
                    next = partition.startOffset
                }
                var count = 0
                let end = partition.endOffset
                var records: [LogRecord] = []
                while next < end, count < Self.maximumRecordsPerCycle {
                    let before = next
                    next = try partition.read(from: next) { view in
                        records.append(view.record)
                        count += 1
                        return count < Self.maximumRecordsPerCycle
                    }
                    // One append per read (about a megabyte of records), not one per record.
                    try destination.append(records[...], to: name, partition: partition.partition)
                    records.removeAll(keepingCapacity: true)
                    if next == before { break }
                }
                if next != positions[key]?.next { copied[key] = (next, count) }
            }
        }
        guard !copied.isEmpty else {
            finished = true
            return summary
        }
        try destination.flush()
        Self.pauseAfterDelivery.reach()
        for (key, done) in copied {
            positions[key]!.next = done.next
            positions[key]!.destinationEnd += Int64(done.records)
            positions[key]!.records += Int64(done.records)
            summary.records += done.records
        }
        try store(copied.keys)
        summary.partitions = copied.count
        finished = true
        return summary
    }

    /// The first position of a partition: from the log's first record, into a cluster
    /// partition that must be empty (stored before anything is produced, so a crash after the
    /// first delivery finds it).
    private func start(_ key: Key, at partition: PartitionLog) throws {
        let (low, high) = try destination.reader.watermarks(key.topic, key.partition)
        guard high == low else {
            throw RunnelError(.kafkaRefused,
                              "\(destination.location(of: key.topic, partition: key.partition)) already holds records (offsets \(low) to \(high - 1)) that this home's mirror did not write",
                              hint: "Mirror into an empty topic: delete it, or choose the topics with --topics")
        }
        positions[key] = Position(next: partition.startOffset, destinationEnd: high, records: 0)
        try store([key])
        logger.info("mirroring a partition of the log", metadata: ["mirror.topic": "\(key.topic)", "mirror.partition": "\(key.partition)"])
    }

    /// Mirrors until the log's end (``mirrorOnce()`` until it copies nothing).
    func drain() throws -> LogMirrorSummary {
        var total = LogMirrorSummary()
        while true {
            let cycle = try mirrorOnce()
            total.add(cycle)
            if cycle.records == 0 { return total }
        }
    }
}

extension LogMirrorSummary {
    mutating func add(_ other: LogMirrorSummary) {
        records += other.records
        alreadyMirrored += other.alreadyMirrored
        lostToRetention += other.lostToRetention
        partitions = max(partitions, other.partitions)
    }
}
