import Foundation
import Runnel
import RunnelTesting
import Testing

/// Versions are switched atomically, kept for rollback, and readers never see a mix
/// (guarantee 4 of `docs/guarantees.md`).
@Suite struct KVVersionTests {
    @Test func eachBuildIsANewCurrentVersionAndOnlyTheNewestAreKept() throws {
        let fixture = try KVFixture()
        for version in 1...5 {
            let manifest = try fixture.buildTagged("v\(version)", keys: 100, keep: 2)
            #expect(manifest.version == version)
        }
        #expect(try fixture.folder.versionNumbers() == [4, 5])
        #expect(try fixture.folder.currentVersion() == 5)
        #expect(try KVStore(folder: fixture.folder).get("key-7") == Array("v5:key-7".utf8))
    }

    @Test func rollbackRestoresThePreviousVersionsAnswers() throws {
        let fixture = try KVFixture()
        try fixture.buildTagged("good", keys: 500)
        try fixture.build((0..<400).map { (Array("key-\($0)".utf8), Array("bad".utf8)) })
        let store = try KVStore(folder: fixture.folder)
        #expect(try store.get("key-450") == nil)
        #expect(try store.get("key-1") == Array("bad".utf8))

        let (from, to) = try fixture.folder.rollback()
        #expect(from == 2 && to == 1)
        #expect(try store.refresh())
        #expect(store.version == 1)
        for key in [0, 1, 399, 450, 499] {
            #expect(try store.get("key-\(key)") == Array("good:key-\(key)".utf8))
        }
        // Nothing older than v1: a second rollback says so; --to the newer one goes forward.
        #expect(throws: RunnelError.self) { try fixture.folder.rollback() }
        #expect(try fixture.folder.rollback(to: 2).to == 2)
        #expect(throws: RunnelError.self) { try fixture.folder.rollback(to: 9) }
        // The next build numbers after the newest kept version, not after the current one.
        try fixture.folder.rollback(to: 1)
        #expect(try fixture.buildTagged("next", keys: 3).version == 3)
    }

    @Test func aHeldSnapshotKeepsReadingAfterItsVersionIsDeleted() throws {
        let fixture = try KVFixture()
        try fixture.buildTagged("first", keys: 1_000, keep: 1)
        let store = try KVStore(folder: fixture.folder)
        let old = store.snapshot()
        for version in 2...4 { try fixture.buildTagged("v\(version)", keys: 1_000, keep: 1) }
        #expect(try fixture.folder.versionNumbers() == [4])
        #expect(!FileManager.default.fileExists(atPath: fixture.folder.versionURL(1).path))
        #expect(try old.get("key-999") == Array("first:key-999".utf8))
        try old.verify()
        #expect(try store.refresh())
        #expect(try store.get("key-999") == Array("v4:key-999".utf8))
        #expect(try old.get("key-0") == Array("first:key-0".utf8))
    }

    @Test func backgroundRefreshPicksUpANewVersion() async throws {
        let fixture = try KVFixture()
        try fixture.buildTagged("one", keys: 10)
        let store = try KVStore(folder: fixture.folder, refreshEvery: .milliseconds(5))
        defer { store.close() }
        try fixture.buildTagged("two", keys: 10)
        let deadline = ContinuousClock.now + .seconds(300)
        while store.version != 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(store.version == 2)
        #expect(try store.get("key-1") == Array("two:key-1".utf8))
    }

    /// Readers on three threads look up keys while versions are built, switched in and deleted
    /// beneath them. Every snapshot's values all carry its own version's tag (no mixed reads),
    /// every value is whole (no torn reads), and a thread never goes back to an older version.
}

/// Flags and failures shared by the reader threads.
final class SharedState: @unchecked Sendable {
    // @unchecked: every field is touched under `lock`.
    private let lock = NSLock()
    private var _stopped = false
    private var _failures: [String] = []
    private var _reads = 0

    var stopped: Bool { lock.withLock { _stopped } }
    var failures: [String] { lock.withLock { _failures } }
    var reads: Int { lock.withLock { _reads } }
    func stop() { lock.withLock { _stopped = true } }
    func fail(_ message: String) { lock.withLock { _failures.append(message) } }
    func add(reads: Int) { lock.withLock { _reads += reads } }
}
