import Foundation
import GRDB
import Logging

/// Reads topics of the log (or of another source: a Kafka cluster) for a consumer whose offsets live in `app.sqlite`
/// (`runnel_consumer_offsets`): a handler or a saga coordinator. The offsets of a batch are
/// written by ``save(in:)`` inside the transaction that applies the batch, so a crash replays
/// the batch and never applies it twice; ``committed()`` makes them the consumer's own once
/// that transaction committed.
package final class AppLogConsumer {
    /// The consumer's name in `runnel_consumer_offsets` (`handler:email`, `saga:premium-upgrade`).
    package let name: String
    package let topics: [String]
    let store: Store
    let logger: Logger
    /// Where the records come from: the home's log (opened when it exists) unless a source was given.
    private var source: RecordSource?
    private var opened: [(topic: String, partition: any SourcePartition)] = []
    /// Offsets committed, by `topic/partition`.
    private var offsets: [String: Int64] = [:]
    /// Offsets read past in the batch in hand, not yet committed.
    private var pending: [String: Int64] = [:]
    /// Where the next batch starts, so partitions take turns.
    private var nextInput = 0

    /// - Parameter source: Where to read; nil reads the home's log.
    /// - Throws: ``RunnelError`` `.saga` when the consumer's offsets were read from another
    ///   source (offsets of one log mean other records in another).
    package init(name: String, topics: [String], store: Store, logger: Logger, source: RecordSource? = nil) throws {
        self.name = name
        self.topics = topics
        self.store = store
        self.logger = logger
        self.source = source
        let identity = source?.reader.identity ?? "log"
        let (saved, from) = try RunnelError.naming(store.app.path, "reading runnel_consumer_offsets") {
            try store.app.read { db in
                var saved: [String: Int64] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT topic, partition, next_offset FROM runnel_consumer_offsets WHERE consumer = ?", arguments: [name]) {
                    saved["\(row["topic"] as String)/\(row["partition"] as Int)"] = row["next_offset"]
                }
                let from = try String.fetchOne(db, sql: "SELECT source FROM runnel_consumers WHERE consumer = ?", arguments: [name])
                return (saved, from ?? "log")
            }
        }
        if !saved.isEmpty, from != identity {
            throw RunnelError(.saga, "\(name) read its offsets in runnel_consumer_offsets from \(from), and is now asked to go on from \(identity): they would mean other records there",
                              hint: "Run it from \(from) as before; or, to read \(identity) from its start, delete the rows of consumer '\(name)' from runnel_consumer_offsets in \(store.app.path) (commands and replies already applied are recognised by their ids)")
        }
        offsets = saved
    }

    /// What `runnel_consumers.source` records: `log`, or `kafka:<cluster id>`.
    private var sourceIdentity: String { source?.reader.identity ?? "log" }

    /// The folders whose changes can bring records: the log's, its topics' and partitions'
    /// (none for a Kafka cluster, which is looked at on a timer).
    package var inputFolders: [URL] {
        guard let source else {
            let root = store.home.logURL
            return [root] + topics.map { root.appendingPathComponent($0) }
        }
        return source.reader.watchedFolders(topics: topics, partitions: opened.map(\.partition))
    }

    /// Opens the log and the topics that exist, and picks up segments appended since the last look.
    package func refresh() throws {
        if source == nil {
            guard FileManager.default.fileExists(atPath: store.home.logURL.path) else { return }
            source = .log(try Log.openForReading(store.home.logURL))
        }
        guard let source else { return }
        for topic in topics where !opened.contains(where: { $0.topic == topic }) {
            guard let found = try source.reader.partitions(of: topic) else { continue }
            opened += found.map { (topic, $0) }
        }
        for input in opened { try input.partition.refresh() }
    }

    /// Records between the committed offsets and the log's end.
    package func backlog() throws -> Int64 {
        try refresh()
        return knownBacklog
    }

    /// Records between the committed offsets and the log's end as last read, without looking
    /// for new segments: what a runner reports as its lag after a commit, at no cost.
    package var knownBacklog: Int64 {
        opened.reduce(0) { $0 + max(0, $1.partition.endOffset - (offsets["\($1.topic)/\($1.partition.partition)"] ?? 0)) }
    }

    /// Reads up to `limit` records past the committed offsets, partitions taking turns.
    /// - Throws: ``RunnelError`` `.logGap` when the committed offset is past a partition's end
    ///   (the log was replaced or cut) or the read reaches a gap; `.corruptLog` for damage.
    package func read(limit: Int) throws -> [ConsumedRecord] {
        try refresh()
        pending = [:]
        var records: [ConsumedRecord] = []
        let count = opened.count
        for step in 0..<count where records.count < limit {
            let (topic, partition) = opened[(nextInput + step) % count]
            let key = "\(topic)/\(partition.partition)"
            var next = offsets[key] ?? 0
            let end = partition.endOffset
            if next > end {
                throw RunnelError(.logGap, "\(name) has read \(key) up to offset \(next), but the log there ends at offset \(end): the log was replaced or cut, and new records would get offsets it already read",
                                  hint: "If the log was replaced on purpose, delete the rows of consumer '\(name)' from runnel_consumer_offsets in \(store.app.path) to read the topic from its start (commands already handled are recognised by their ids)")
            }
            if next < partition.startOffset {
                logger.warning("retention deleted records before they were consumed", metadata: [
                    "consumer": "\(name)", "consumer.topic": "\(topic)", "consumer.partition": "\(partition.partition)",
                    "consumer.records_lost": "\(partition.startOffset - next)",
                ])
                next = partition.startOffset
                pending[key] = next
            }
            while records.count < limit, next < end {
                let after = try partition.read(from: next) { view in
                    records.append(ConsumedRecord(view, topic: topic, partition: partition.partition))
                    return records.count < limit
                }
                guard after > next else { break }
                next = after
                pending[key] = next
            }
        }
        nextInput = count == 0 ? 0 : (nextInput + 1) % count
        return records
    }

    /// Whether the batch in hand moved any offset (records read, or past removed records).
    package var hasPendingOffsets: Bool { !pending.isEmpty }

    /// Writes the batch's offsets, inside the transaction that applies the batch.
    package func save(in db: Database) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO runnel_consumer_offsets (consumer, topic, partition, next_offset) VALUES (?, ?, ?, ?)
            ON CONFLICT (consumer, topic, partition) DO UPDATE SET next_offset = excluded.next_offset
            """)
        for (key, next) in pending {
            let slash = key.lastIndex(of: "/")!
            try statement.execute(arguments: [name, String(key[..<slash]), Int(key[key.index(after: slash)...])!, next])
        }
        // Which source the offsets count in, with them.
        if !pending.isEmpty {
            try db.cachedStatement(sql: """
                INSERT INTO runnel_consumers (consumer, source) VALUES (?, ?) ON CONFLICT (consumer) DO UPDATE SET source = excluded.source
                """).execute(arguments: [name, sourceIdentity])
        }
    }

    /// Makes the batch's offsets the committed ones, after its transaction committed.
    package func committed() {
        offsets.merge(pending) { _, new in new }
        pending = [:]
    }

    /// Forgets the batch in hand (its transaction rolled back): the next read starts again
    /// from the committed offsets.
    package func rolledBack() {
        pending = [:]
    }

    /// Keeps a record the consumer could not take in `runnel_consumer_dead_letters`, with why,
    /// inside the batch's transaction.
    package func deadLetter(_ record: ConsumedRecord, reason: String, at now: Date, in db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO runnel_consumer_dead_letters (consumer, topic, partition, "offset", type, command_id, payload, reason, failed_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [name, record.topic, record.partition, record.offset, record.type, record.headers[SagaHeader.commandID],
                                     record.value.map { String(decoding: $0, as: UTF8.self) }, reason, now.millisecondsSince1970])
    }

    /// Adds a batch's counts to the consumer's row of `runnel_consumers`, inside the batch's transaction.
    package func count(records: Int, handled: Int, duplicates: Int = 0, skipped: Int = 0, deadLetters: Int, at now: Date, in db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO runnel_consumers (consumer, records, handled, duplicates, skipped, dead_letters, last_commit_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (consumer) DO UPDATE SET records = records + excluded.records, handled = handled + excluded.handled,
                duplicates = duplicates + excluded.duplicates, skipped = skipped + excluded.skipped,
                dead_letters = dead_letters + excluded.dead_letters, last_commit_at = excluded.last_commit_at
            """).execute(arguments: [name, records, handled, duplicates, skipped, deadLetters, now.millisecondsSince1970])
    }
}
