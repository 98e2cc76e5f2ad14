import Foundation
import GRDB

/// A sink that serves a stream's latest value per key as a derived key-value store under
/// `kv/<name>/`, read from application code with ``KVStore`` at memory speed.
///
/// Each batch's upserts (and deletes, for withdrawn rows) are committed to `derived.sqlite` with
/// the batch, exactly once like a read view; when a run reaches the end of the log (or, in follow
/// mode, every ``PipelineRunner/Options/kvPublishInterval``) the store is published as a new
/// immutable file version and switched in atomically. The last `keep` versions stay for
/// `runnel kv rollback`.
///
/// ```swift
/// .aggregate { … }
/// .into(KVFile("member-features", keyColumn: "member_id"))          // rows as JSON objects
///
/// .into(KVFile("headlines", key: \.memberId) { Array($0.headline.utf8) })  // raw bytes
/// ```
public struct KVFile<Event>: Sendable {
    /// The store's name: its folder under `kv/`.
    public let name: String
    /// How many versions to keep (at least 1).
    public let keep: Int
    let entry: @Sendable (Event, JSONEncoder) throws -> (key: [UInt8], value: [UInt8])

    /// A store whose values are bytes you make from each event.
    /// - Parameters:
    ///   - name: The store (lower-case letters, digits, `-`, `_`, `.`).
    ///   - keep: How many versions to keep for rollback.
    ///   - key: The event's key (a string, an integer as its decimal digits, or bytes).
    ///   - value: The bytes to store; an error sends the event to the dead-letter table.
    public init<Key: KVKey>(_ name: String, keep: Int = 3, key: @escaping @Sendable (Event) -> Key,
                            value: @escaping @Sendable (Event) throws -> [UInt8]) {
        self.name = name
        self.keep = keep
        entry = { event, _ in (key(event).keyBytes, try value(event)) }
    }
}

extension KVFile where Event: Encodable & SendableMetatype {
    /// A store whose values are the events as JSON (keys sorted).
    /// - Parameters:
    ///   - name: The store (lower-case letters, digits, `-`, `_`, `.`).
    ///   - keep: How many versions to keep for rollback.
    ///   - key: The event's key (a string, an integer as its decimal digits, or bytes).
    public init<Key: KVKey>(_ name: String, keep: Int = 3, key: @escaping @Sendable (Event) -> Key) {
        self.name = name
        self.keep = keep
        entry = { event, encoder in (key(event).keyBytes, Array(try encoder.encode(event))) }
    }
}

extension KVFile where Event == ViewRow {
    /// A store of window or aggregate rows, keyed by one of their columns, each row a JSON
    /// object of its columns. Text keys are their UTF-8, integers their decimal digits.
    public init(_ name: String, keep: Int = 3, keyColumn: String) {
        self.name = name
        self.keep = keep
        entry = { row, encoder in
            guard let index = row.schema.index(of: keyColumn) else {
                throw RunnelError(.pipeline, "KV store \(name) is keyed by column \(keyColumn), which the rows do not have (\(row.schema.columns.map(\.name).joined(separator: ", ")))")
            }
            let key: [UInt8]
            switch row.values[index].storage {
            case .null: throw RunnelError(.pipeline, "KV store \(name): the key column \(keyColumn) is NULL")
            case .int64(let number): key = number.keyBytes
            case .double(let number): key = Array("\(number)".utf8)
            case .string(let text): key = Array(text.utf8)
            case .blob(let data): key = Array(data)
            }
            return (key, Array(try encoder.encode(row)))
        }
    }
}

/// A KV store as the runtime records it.
struct KVStoreSpec: Hashable, Sendable {
    let name: String
    let keep: Int
}

/// Buffers a batch's KV upserts and deletes and writes them to `runnel_kv_entries` in the
/// batch's transaction.
final class KVWriter: PipelineOperator {
    let spec: KVStoreSpec
    let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .wholeMilliseconds
        return encoder
    }()
    private var pending: [(key: [UInt8], value: [UInt8]?)] = []

    var shape: String { "kv store \(spec.name)" }

    init(_ spec: KVStoreSpec) {
        self.spec = spec
    }

    func take(key: [UInt8], value: [UInt8]?) {
        pending.append((key, value))
    }

    func restore(_ db: Database, graph: PipelineGraph) throws {}

    func flush(_ db: Database, graph: PipelineGraph) throws {
        guard !pending.isEmpty else { return }
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO runnel_kv_entries (store, key, value) VALUES (?, ?, ?)
            ON CONFLICT (store, key) DO UPDATE SET value = excluded.value
            """)
        let delete = try db.cachedStatement(sql: "DELETE FROM runnel_kv_entries WHERE store = ? AND key = ?")
        for (key, value) in pending {
            if let value {
                try FastStatement.execute(upsert, db) { handle in
                    FastStatement.bind(handle, 1, spec.name)
                    FastStatement.bind(handle, 2, key)
                    FastStatement.bind(handle, 3, value)
                }
            } else {
                try FastStatement.execute(delete, db) { handle in
                    FastStatement.bind(handle, 1, spec.name)
                    FastStatement.bind(handle, 2, key)
                }
            }
        }
        try db.cachedStatement(sql: "UPDATE runnel_kv_stores SET changes = changes + ? WHERE name = ?")
            .execute(arguments: [pending.count, spec.name])
        pending.removeAll(keepingCapacity: true)
    }
}

extension EventStream {
    /// Ends the stream in a derived KV store: each event sets its key's value; a withdrawn row
    /// (a session merged away) deletes its key.
    public func into(_ file: KVFile<Event>) -> PipelineOutput {
        PipelineOutput { graph in
            try KVStoreFolder.validate(name: file.name)
            guard file.keep >= 1 else {
                throw RunnelError(.pipeline, "KV store \(file.name) of pipeline \(graph.pipeline.name) keeps \(file.keep) versions", hint: "Keep at least 1")
            }
            let spec = KVStoreSpec(name: file.name, keep: file.keep)
            try graph.declare(spec)
            let writer = KVWriter(spec)
            try connect(graph) { event, meta in
                let entry: (key: [UInt8], value: [UInt8])
                do {
                    entry = try file.entry(event, writer.encoder)
                } catch {
                    graph.deadLetter("cannot make the KV entry for store \(file.name): \(error)")
                    _ = graph.columnMisses.take(stage: "KV store \(file.name)")   // the failure is the dead letter's error
                    return
                }
                if graph.rejectsMissingColumns(meta, stage: "KV store \(file.name)") { return }
                guard entry.key.count <= KVFormat.maximumKeyLength, entry.value.count <= KVFormat.maximumValueLength else {
                    graph.deadLetter("the KV entry for store \(file.name) has a \(entry.key.count)-byte key and a \(entry.value.count)-byte value; keys may be up to \(KVFormat.maximumKeyLength) bytes and values up to \(KVFormat.maximumValueLength)")
                    return
                }
                writer.take(key: entry.key, value: meta.isRetraction ? nil : entry.value)
            }
            graph.register(writer)
        }
    }
}
