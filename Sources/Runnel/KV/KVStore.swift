#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
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
public final class KVStore: @unchecked Sendable {
    // @unchecked: `current`, `refreshError` and `refresher` are only touched holding `mutex`.

    /// The store's folder.
    package let folder: KVStoreFolder
    /// How newly opened versions are checked.
    public let verification: KVSnapshot.Verification
    /// Guards the version lookups read, why the last refresh failed and the background timer.
    /// Every lookup takes it for a load and a retain, and no critical section does more. A
    /// default pthread mutex the store holds itself: ThreadSanitizer sees it (it does not see
    /// `Synchronization.Mutex` on Linux), and lookups are as fast as with the spin lock it
    /// replaces (`runnel-bench kv-lookup`: absent keys 8.9M/s against 8.0M/s; through the
    /// generic `Locked` box, 5.3M/s).
    private let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        return mutex
    }()
    private var current: KVSnapshot
    private var refreshError: RunnelError?
    private var refresher: (any DispatchSourceTimer)?

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
    package init(folder: KVStoreFolder, refreshEvery: Duration? = nil, verification: KVSnapshot.Verification = .onFirstTouch) throws {
        self.folder = folder
        self.verification = verification
        guard let number = try folder.currentVersion() else {
            throw RunnelError(.kv, "KV store \(folder.name) has no version yet (no \(folder.url.appendingPathComponent("CURRENT").path))",
                              hint: "Run the pipeline that writes it (`runnel run …`) or `runnel kv publish \(folder.name)`; `runnel kv list` shows the stores there are")
        }
        current = try Self.openCurrent(folder, number, verification)
        if let refreshEvery { startRefreshing(every: refreshEvery) }
    }

    deinit {
        locked { refresher?.cancel() }
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// The store's name.
    public var name: String { folder.name }

    /// The version lookups read now.
    public var version: Int { snapshot().version }

    /// The version lookups read now: hold it to make several lookups from one version.
    public func snapshot() -> KVSnapshot {
        locked { current }
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
            locked {
                current = next
                refreshError = nil
            }
            return true
        } catch {
            let failure = error as? RunnelError
                ?? RunnelError(.kv, "cannot refresh KV store \(folder.name) at \(folder.url.path): \(error)")
            locked { refreshError = failure }
            throw failure
        }
    }

    /// Why the last refresh failed, if it did (background refreshes report here).
    public var lastRefreshError: RunnelError? {
        locked { refreshError }
    }

    /// Stops refreshing in the background.
    public func close() {
        locked {
            refresher?.cancel()
            refresher = nil
        }
    }

    @inline(__always)
    private func locked<Result>(_ body: () -> Result) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
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
        locked { refresher = timer }
        timer.resume()
    }
}
