import Foundation
import Runnel
import RunnelTesting
import Testing

/// What goes into a version comes back out, byte for byte, and nothing else does.
@Suite struct KVRoundTripTests {
    @Test func anEmptyStoreAnswersNothing() throws {
        let fixture = try KVFixture()
        let manifest = try fixture.build([])
        #expect(manifest.keyCount == 0)
        let store = try KVStore(folder: fixture.folder)
        #expect(store.version == 1)
        #expect(try store.get("anything") == nil)
        #expect(try store.get([UInt8]()) == nil)
        try store.snapshot().verify()
    }

    @Test func oneKey() throws {
        let fixture = try KVFixture()
        try fixture.build([(Array("42".utf8), Array(#"{"connections":17}"#.utf8))])
        let store = try KVStore(folder: fixture.folder)
        #expect(try store.get("42") == Array(#"{"connections":17}"#.utf8))
        #expect(try store.get(42) == Array(#"{"connections":17}"#.utf8), "an integer key is its decimal digits")
        #expect(try store.get(Int64(42)) == store.get("42"))
        #expect(try store.get("4") == nil)
        #expect(try store.get("420") == nil)
        #expect(try store.get(-42) == nil)
        try store.snapshot().verify()
    }

    @Test func manyRandomKeysRoundTripAndOthersAreAbsent() throws {
        let fixture = try KVFixture()
        let entries = randomEntries(20_000, seed: 7)
        let manifest = try fixture.build(entries)
        #expect(manifest.keyCount == entries.count)
        let snapshot = try KVStore(folder: fixture.folder).snapshot()
        #expect(snapshot.keyCount == entries.count)
        for (key, value) in entries {
            #expect(try snapshot.get(key) == value)
        }
        let present = Set(entries.map(\.0))
        let absent = randomEntries(5_000, seed: 8).map(\.0).filter { !present.contains($0) }
        #expect(absent.count > 4_000)
        for key in absent {
            #expect(try snapshot.get(key) == nil)
        }
        try snapshot.verify()
    }

    @Test func binaryKeysOfEveryShortLengthAreTellApart() throws {
        // Keys 0–17 bytes long, some only differing in a trailing zero byte: the hash reads
        // eight bytes at a time and the tail separately, so every tail length is covered.
        var entries: [([UInt8], [UInt8])] = []
        for length in 0...17 {
            entries.append(([UInt8](repeating: 0, count: length), [UInt8(length)]))
            entries.append(((0..<length).map { UInt8(255 - $0) }, [UInt8(100 + length)]))
        }
        entries.removeAll { $0.0.isEmpty && $0.1 == [100] } // the empty key once
        let fixture = try KVFixture()
        try fixture.build(entries)
        let snapshot = try KVStore(folder: fixture.folder).snapshot()
        for (key, value) in entries {
            #expect(try snapshot.get(key) == value, "key \(key)")
        }
        #expect(try snapshot.get([UInt8](repeating: 0, count: 18)) == nil)
        #expect(try snapshot.get(Data([0, 0, 0])) == [3])
    }

    @Test func largeAndEmptyValuesSpanBlocksIntact() throws {
        var random = SeededGenerator(seed: 3)
        let sizes = [0, 1, 4_095, 4_096, 4_097, 1 << 20, (1 << 20) + 5, 5 << 20]
        let entries = sizes.enumerated().map { index, size in
            (Array("value-\(index)".utf8), (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        }
        let fixture = try KVFixture()
        try fixture.build(entries)
        let snapshot = try fixture.folder.open(version: 1, verification: .atOpen)
        for (key, value) in entries {
            let got = try snapshot.get(key)
            #expect(got?.count == value.count)
            #expect(got == value)
        }
        var seen = 0
        try snapshot.forEach { key, value in
            #expect(Array(value) == entries[seen].1, "forEach returns records in the order written")
            #expect(Array(key) == entries[seen].0)
            seen += 1
        }
        #expect(seen == entries.count)
    }

    @Test func zeroCopyReadsSeeTheSameBytes() throws {
        let fixture = try KVFixture()
        try fixture.build([(Array("a".utf8), Array("alpha".utf8))])
        let snapshot = try KVStore(folder: fixture.folder).snapshot()
        let value = try Array("a".utf8).withUnsafeBytes { key in try snapshot.withValue(forKey: key) { $0.map { String(decoding: $0, as: UTF8.self) } } }
        #expect(value == "alpha")
        #expect(try snapshot.contains("a"))
        #expect(try !snapshot.contains("b"))
    }

    @Test func aKeyAddedTwiceIsRefusedAndTheCurrentVersionStays() throws {
        let fixture = try KVFixture()
        try fixture.buildTagged("one", keys: 10)
        #expect {
            try fixture.build([(Array("dup".utf8), [1]), (Array("other".utf8), [2]), (Array("dup".utf8), [3])])
        } throws: { error in
            let error = error as? RunnelError
            return error?.code == .invalidArgument && error?.message.contains("\"dup\" was added twice") == true
        }
        #expect(try fixture.folder.currentVersion() == 1)
        #expect(try fixture.folder.versionNumbers() == [1])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixture.folder.url.path).filter { $0.hasPrefix(".build") }
        #expect(leftovers.isEmpty, "a failed build removes its folder")
    }

    @Test func aFailingFillLeavesNoVersion() throws {
        struct Stop: Error {}
        let fixture = try KVFixture()
        try fixture.buildTagged("one", keys: 10)
        #expect(throws: Stop.self) {
            try fixture.folder.build { writer in
                try writer.add(key: Array("k".utf8), value: [1])
                throw Stop()
            }
        }
        #expect(try fixture.folder.versionNumbers() == [1])
        #expect(try KVStore(folder: fixture.folder).get("key-3") == Array("one:key-3".utf8))
    }

    @Test func oversizedKeysAreRefusedWithTheLimit() throws {
        let fixture = try KVFixture()
        #expect {
            try fixture.build([([UInt8](repeating: 1, count: 70_000), [1])])
        } throws: { error in
            (error as? RunnelError)?.message.contains("keys may be up to 65535 bytes") == true
        }
    }

    @Test func aStoreWithoutAVersionSaysHowToMakeOne() throws {
        let fixture = try KVFixture()
        #expect {
            _ = try KVStore(folder: fixture.folder)
        } throws: { error in
            let error = error as? RunnelError
            return error?.code == .kv && error?.message.contains("has no version yet") == true && error?.hint?.contains("runnel kv publish") == true
        }
        #expect(throws: RunnelError.self) { _ = try KVStoreFolder(home: fixture.temporary.home, name: "../escape") }
        #expect(throws: RunnelError.self) { _ = try KVStoreFolder(home: fixture.temporary.home, name: ".hidden") }
    }
}
