import Foundation
import Runnel

/// `/api/kv`: each KV store's current version, its keys, size and age, and the versions kept.
struct KVPayload: Encodable, Sendable {
    struct Store: Encodable, Sendable {
        var store: String
        /// Nil before the first publish.
        var version: Int?
        var keys: Int?
        var bytes: Int?
        var builtAt: Date?
        var ageMs: Int64?
        var pipeline: String?
        /// Every version on disk, oldest first (the current one and those kept for rollback).
        var keptVersions: [Int]
        /// Why the store could not be read, if it could not.
        var problem: String?
    }

    var stores: [Store]

    /// Reads every store folder under `<home>/kv/` (blocking file reads).
    static func read(home: RunnelHome, now: Date = Date()) throws -> KVPayload {
        KVPayload(stores: try KVStoreFolder.all(in: home).map { folder in
            var store = Store(store: folder.name, keptVersions: [])
            do {
                store.keptVersions = try folder.versionNumbers().sorted()
                guard let version = try folder.currentVersion() else { return store }
                let manifest = try folder.manifest(of: version)
                store.version = version
                store.keys = manifest.keyCount
                store.bytes = manifest.fileSize
                store.builtAt = manifest.builtAt
                store.ageMs = max(0, now.millisecondsSince1970 - manifest.builtAt.millisecondsSince1970)
                store.pipeline = manifest.pipeline
            } catch {
                store.problem = "\(error)"
            }
            return store
        })
    }
}
