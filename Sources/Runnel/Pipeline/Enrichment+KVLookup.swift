import Foundation

/// A KV store an ``EventStream/enrich(from:on:ifMissing:_:)-(KVLookup<Value>,_,_,_)`` stage looks values up in,
/// memory-mapped, decoding each found value from JSON into `Value`.
///
/// ```swift
/// .enrich(from: KVLookup("member-features", as: MemberFeatures.self), on: \.memberId, ifMissing: .drop) { event, features in … }
/// ```
///
/// The stage reads the store's current version and picks up new ones within a second; like a
/// table lookup, a replay after the store changed can give a different answer.
public struct KVLookup<Value: Decodable & Sendable>: Sendable {
    /// The store.
    public let name: String
    /// How many decoded values a run keeps in memory.
    public let cacheSize: Int

    /// - Parameters:
    ///   - name: The KV store.
    ///   - type: The type each value decodes into (from JSON).
    ///   - cacheSize: Decoded values kept per run; when full, the cache starts again empty.
    public init(_ name: String, as type: Value.Type, cacheSize: Int = 100_000) {
        self.name = name
        self.cacheSize = cacheSize
    }
}

/// The per-run reader and decoded-value cache of one KV enrich stage.
final class KVLookupCache<Value: Decodable & Sendable> {
    private let lookup: KVLookup<Value>
    private let home: RunnelHome
    private var store: KVStore?
    private var version = 0
    private var values: [[UInt8]: Value] = [:]
    private let decoder = JSONDecoder()

    init(_ lookup: KVLookup<Value>, home: RunnelHome) {
        self.lookup = lookup
        self.home = home
    }

    func value(for key: [UInt8]) throws -> Value? {
        let store = try openedStore()
        let snapshot = store.snapshot()
        if snapshot.version != version {
            values.removeAll(keepingCapacity: true)
            version = snapshot.version
        }
        if let value = values[key] { return value }
        guard let bytes = try snapshot.get(key) else { return nil }
        let value: Value
        do {
            value = try decoder.decode(Value.self, from: Data(bytes))
        } catch {
            throw RunnelError(.pipeline, "the value of key \(KVKeyText.describe(key)) in KV store \(lookup.name) v\(snapshot.version) does not decode as \(Value.self): \(DecodingProblem.describe(error))",
                              hint: "Check that the enrich stage's type matches what the store's pipeline writes")
        }
        if values.count >= lookup.cacheSize { values.removeAll(keepingCapacity: true) }
        values[key] = value
        return value
    }

    private func openedStore() throws -> KVStore {
        if let store { return store }
        let opened: KVStore
        do {
            opened = try KVStore.open(lookup.name, in: home, refreshEvery: .seconds(1))
        } catch let error as RunnelError where error.code == .kv {
            throw RunnelError(.pipeline, "an enrich stage reads KV store \(lookup.name), which has no version yet",
                              hint: "Run the pipeline that publishes it first (`runnel run …`), or `runnel kv publish \(lookup.name)`")
        }
        store = opened
        return opened
    }
}

extension EventStream {
    /// Joins each event with the value of a key in a KV store, decoded from JSON and cached.
    ///
    /// - Parameters:
    ///   - lookup: The store and the type of its values.
    ///   - key: The event's field holding the key (strings as UTF-8, integers as decimal digits).
    ///   - ifMissing: What to do when the store has no such key.
    ///   - combine: Builds the stage's output from the event and the value.
    public func enrich<Value, Key: KVKey, Output>(
        from lookup: KVLookup<Value>,
        on key: KeyPath<Event, Key> & Sendable,
        ifMissing: MissingRow<Value>,
        _ combine: @escaping @Sendable (Event, Value) -> Output
    ) -> EventStream<Output> {
        enrich(ifMissing: ifMissing, combine, lookUp: { graph in
            let cache = KVLookupCache(lookup, home: graph.store.home)
            return { try cache.value(for: $0[keyPath: key].keyBytes) }
        }, missing: { "no key \(KVKeyText.describe($0[keyPath: key].keyBytes)) in KV store \(lookup.name)" })
    }
}
