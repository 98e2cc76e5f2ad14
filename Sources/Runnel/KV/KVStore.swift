import Foundation

/// Reads a KV store from application code: the version `CURRENT` names, memory-mapped, with no
/// SQLite on the read path.
///
/// ```swift
/// let features = try KVStore.open("member-features", in: home, refreshEvery: .seconds(5))
/// if let bytes = try features.get(42) {
///     let row = try JSONDecoder().decode(MemberFeatures.self, from: Data(bytes))
/// }
/// ```
///
/// A new version is picked up by ``refresh()``, or every `refreshEvery` by a Dispatch timer of its own.
/// Switching versions never blocks a lookup for longer than swapping a reference, and a lookup
/// (or a ``snapshot()`` held across several) keeps reading the version it started with, safely,
/// even after that version is deleted. A `KVStore` is safe to share between threads.
public final class KVStore: Sendable {

    /// The store's folder.
    public let folder: KVStoreFolder
    /// How newly opened versions are checked.
    public let verification: KVSnapshot.Verification
    /// The version lookups read, why the last refresh failed, and the background refresh timer.
    /// Every lookup takes the lock for a load and a retain, and no critical section does more.
    private let state: Locked<State>

    private struct State {
        var current: KVSnapshot
        var refreshError: RunnelError?
        var refresher: (any DispatchSourceTimer)?
    }

    /// Opens a store of a home at its current version.
    /// - Parameters:
    ///   - name: The store.
    ///   - home: The home whose `kv/` holds it.
    ///   - refreshEvery: How often to look for a new version in the background; nil only
    ///     looks when you call ``refresh()``.
    ///   - verification: When blocks are checked against their checksums.
    /// - Throws: ``RunnelError`` `.kv` when the store has no version yet; `.corruptKV` when the
    ///   current version is damaged.
    public static func open(_ name: String, in home: RunnelHome, refreshEvery: Duration? = nil,
                            verification: KVSnapshot.Verification = .onFirstTouch) throws -> KVStore {
        try KVStore(folder: KVStoreFolder(home: home, name: name), refreshEvery: refreshEvery, verification: verification)
    }

    /// Opens the store in a folder at its current version.
    public init(folder: KVStoreFolder, refreshEvery: Duration? = nil, verification: KVSnapshot.Verification = .onFirstTouch) throws {
        self.folder = folder
        self.verification = verification
        guard let number = try folder.currentVersion() else {
            throw RunnelError(.kv, "KV store \(folder.name) has no version yet (no \(folder.url.appendingPathComponent("CURRENT").path))",
                              hint: "Run the pipeline that writes it (`runnel run …`) or `runnel kv publish \(folder.name)`; `runnel kv list` shows the stores there are")
        }
        state = Locked(State(current: try Self.openCurrent(folder, number, verification)))
        if let refreshEvery { startRefreshing(every: refreshEvery) }
    }

    deinit {
        state.withLock { $0.refresher?.cancel() }
    }

    /// The store's name.
    public var name: String { folder.name }

    /// The version lookups read now.
    public var version: Int { snapshot().version }

    /// The version lookups read now: hold it to make several lookups from one version.
    public func snapshot() -> KVSnapshot {
        state.withLock { $0.current }
    }

    /// The value stored for `key` in the current version, or nil when it has none.
    /// - Throws: ``RunnelError`` `.corruptKV` when a block the lookup reads is damaged.
    public func get(_ key: some KVKey) throws -> [UInt8]? {
        try snapshot().get(key)
    }

    /// The value stored for a key given as bytes (the non-generic fast path).
    public func get(_ key: [UInt8]) throws -> [UInt8]? {
        try snapshot().get(key)
    }

    /// The value stored for a key given as text (its UTF-8).
    public func get(_ key: String) throws -> [UInt8]? {
        try snapshot().get(key)
    }

    /// The value for `key` decoded from JSON, or nil when the key is absent.
    public func get<Value: Decodable>(_ key: some KVKey, as type: Value.Type, decoder: JSONDecoder = JSONDecoder()) throws -> Value? {
        guard let bytes = try get(key) else { return nil }
        return try decoder.decode(Value.self, from: Data(bytes))
    }

    /// Switches to the version `CURRENT` names now, if it changed (a new build or a rollback).
    /// Lookups in flight finish on the version they started with.
    /// - Returns: Whether the version changed.
    /// - Throws: When the new version cannot be opened; the store keeps serving the one it has.
    @discardableResult
    public func refresh() throws -> Bool {
        do {
            guard let number = try folder.currentVersion(), number != version else { return false }
            let next = try Self.openCurrent(folder, number, verification)
            state.withLock {
                $0.current = next
                $0.refreshError = nil
            }
            return true
        } catch {
            let failure = error as? RunnelError
                ?? RunnelError(.kv, "cannot refresh KV store \(folder.name) at \(folder.url.path): \(error)")
            state.withLock { $0.refreshError = failure }
            throw failure
        }
    }

    /// Why the last refresh failed, if it did (background refreshes report here).
    public var lastRefreshError: RunnelError? {
        state.withLock { $0.refreshError }
    }

    /// Stops refreshing in the background.
    public func close() {
        state.withLock {
            $0.refresher?.cancel()
            $0.refresher = nil
        }
    }

    /// Opens the version `CURRENT` named. When builds follow each other quickly, that version
    /// can be pruned between reading `CURRENT` and opening it; then `CURRENT` has moved on, and
    /// the newer version is opened instead.
    private static func openCurrent(_ folder: KVStoreFolder, _ number: Int, _ verification: KVSnapshot.Verification) throws -> KVSnapshot {
        var number = number
        for _ in 0..<3 {
            do {
                return try folder.open(version: number, verification: verification)
            } catch {
                guard let now = try folder.currentVersion(), now != number else { throw error }
                number = now
            }
        }
        return try folder.open(version: number, verification: verification)
    }

    /// Refreshes on a Dispatch timer of its own rather than a task: application code that
    /// blocks the Swift concurrency pool's few threads would otherwise starve the refresh.
    private func startRefreshing(every interval: Duration) {
        let (seconds, attoseconds) = interval.components
        let nanoseconds = max(1_000_000, Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "runnel.kv.refresh.\(folder.name)"))
        timer.schedule(deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds), leeway: .nanoseconds(nanoseconds / 10))
        // A failed refresh is kept in `lastRefreshError`, and the store serves the version it has.
        timer.setEventHandler { [weak self] in _ = try? self?.refresh() }
        state.withLock { $0.refresher = timer }
        timer.resume()
    }
}
