import Foundation
@testable import Runnel
import RunnelTesting
import Testing

/// Lookups, snapshots and version swaps from many threads at once. `.ci/run` also runs this
/// suite under ThreadSanitizer, which fails on any data race it sees.
@Suite struct KVConcurrencyTests {
    /// Starts `count` reader threads, each running `body` with a generator of its own seed
    /// until `state` stops and adding the reads it returns; the group is left when all end.
    private func startReaders(_ count: Int, seed: UInt64, _ state: SharedState,
                              _ body: @escaping @Sendable (Int, inout SeededGenerator) -> Int) -> DispatchGroup {
        let group = DispatchGroup()
        for reader in 0..<count {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                var random = SeededGenerator(seed: seed + UInt64(reader))
                state.add(reads: body(reader, &random))
            }
        }
        return group
    }

    @Test func swapsUnderConcurrentReadersGiveNoTornOrMixedReads() throws {
        let fixture = try KVFixture()
        let keys = 3_000
        try fixture.buildTagged("v1", keys: keys, keep: 2)
        let store = try KVStore(folder: fixture.folder)
        let oldest = store.snapshot()
        let state = SharedState()
        let group = startReaders(3, seed: 1, state) { reader, random in
            var lastVersion = 0
            var reads = 0
            while !state.stopped {
                let snapshot = store.snapshot()
                if snapshot.version < lastVersion { state.fail("reader \(reader) went back from v\(lastVersion) to v\(snapshot.version)") }
                lastVersion = snapshot.version
                for _ in 0..<50 {
                    let key = random.below(keys)
                    let expected = "v\(snapshot.version):key-\(key)"
                    do {
                        let value = try snapshot.get("key-\(key)").map { String(decoding: $0, as: UTF8.self) }
                        if value != expected { state.fail("v\(snapshot.version) key-\(key): \(value ?? "nil"), expected \(expected)") }
                    } catch {
                        state.fail("v\(snapshot.version) key-\(key): \(error)")
                    }
                    reads += 1
                }
                // One lookup through the store, which may land on any version from the
                // one just read on.
                if let value = try? store.get("key-0").map({ String(decoding: $0, as: UTF8.self) }),
                   let tag = Int(value.dropFirst().prefix { $0 != ":" }), tag < lastVersion {
                    state.fail("store.get read v\(tag) after v\(lastVersion)")
                }
            }
            return reads
        }
        for version in 2...25 {
            try fixture.buildTagged("v\(version)", keys: keys, keep: 2)
            try store.refresh()
        }
        state.stop()
        group.wait()
        #expect(state.failures.isEmpty, "\(state.failures.prefix(5))")
        #expect(state.reads > 1_000)
        #expect(store.version == 25)
        #expect(try fixture.folder.versionNumbers() == [24, 25])
        #expect(try oldest.get("key-5") == Array("v1:key-5".utf8), "the first snapshot still reads its deleted version")
    }

    @Test func backgroundRefreshesBesideLookupsAndCloseRaceNothing() throws {
        let fixture = try KVFixture()
        let keys = 500
        try fixture.buildTagged("v1", keys: keys, keep: 2)
        let store = try KVStore(folder: fixture.folder, refreshEvery: .milliseconds(1), verification: .onFirstTouch)
        let state = SharedState()
        let group = startReaders(3, seed: 7, state) { _, random in
            var reads = 0
            while !state.stopped {
                let key = random.below(keys)
                do {
                    let value = try store.get("key-\(key)").map { String(decoding: $0, as: UTF8.self) }
                    if value?.hasSuffix(":key-\(key)") != true { state.fail("key-\(key): \(value ?? "nil")") }
                } catch {
                    state.fail("key-\(key): \(error)")
                }
                _ = store.version
                _ = store.lastRefreshError
                reads += 1
            }
            return reads
        }
        for version in 2...10 {
            try fixture.buildTagged("v\(version)", keys: keys, keep: 2)
            Thread.sleep(forTimeInterval: 0.005)
        }
        let deadline = Date().addingTimeInterval(10)
        while store.version != 10, Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
        store.close()
        state.stop()
        group.wait()
        #expect(state.failures.isEmpty, "\(state.failures.prefix(5))")
        #expect(store.version == 10)
        #expect(store.lastRefreshError == nil)
    }
}
