import Foundation
import Runnel
import RunnelTesting
import Testing

/// Damaged bytes are found and named with the file and byte offset (guarantee 7 of `docs/guarantees.md`); the rest of
/// the store keeps answering, and a good version can be rolled back to.
@Suite struct KVCorruptionTests {
    /// 2,000 keys with 100-byte values: about 50 blocks of records.
    static func entries() -> [([UInt8], [UInt8])] {
        (0..<2_000).map { (Array("member-\($0)".utf8), Array(String(repeating: "\($0 % 10)", count: 100).utf8)) }
    }

    static func expectCorrupt(_ error: any Error, mentioning parts: [String]) -> Bool {
        guard let error = error as? RunnelError, error.code == .corruptKV else { return false }
        return parts.allSatisfy { error.description.contains($0) }
    }

    @Test func aFlippedValueByteFailsItsBlockAndOnlyThatBlock() throws {
        let fixture = try KVFixture()
        let entries = Self.entries()
        try fixture.build(entries)
        let damaged = 1_500
        let offset = recordOffsets(entries)[damaged] + 8 + entries[damaged].0.count + 50
        try flipByte(fixture.dataFile(1), at: offset)
        let block = offset / 4096
        let snapshot = try KVStore(folder: fixture.folder).snapshot()
        #expect {
            _ = try snapshot.get("member-\(damaged)")
        } throws: { error in
            Self.expectCorrupt(error, mentioning: ["v1/data.rkv", "block \(block) (bytes \(block * 4096)–\(block * 4096 + 4095))", "fails its CRC-32C check"])
        }
        // A key in another block still reads.
        #expect(try snapshot.get("member-3") == entries[3].1)
        #expect(throws: RunnelError.self) { try snapshot.verify() }
    }

    @Test func aFlippedByteInTheLastBlockOfALongValueIsFound() throws {
        // A 20 KiB value spans six blocks; the lookup checks its first block on the way in and
        // must check every other one before it hands the value out.
        let fixture = try KVFixture()
        var entries = Self.entries()
        entries[700].1 = Array(repeating: UInt8(ascii: "x"), count: 20_000)
        try fixture.build(entries)
        let valueStart = recordOffsets(entries)[700] + 8 + entries[700].0.count
        let offset = valueStart + 19_990
        try flipByte(fixture.dataFile(1), at: offset)
        let block = offset / 4096
        #expect(block > valueStart / 4096 + 1)
        let snapshot = try KVStore(folder: fixture.folder).snapshot()
        #expect {
            _ = try snapshot.get("member-700")
        } throws: { error in
            Self.expectCorrupt(error, mentioning: ["v1/data.rkv", "block \(block) (bytes \(block * 4096)–\(block * 4096 + 4095))"])
        }
        #expect(try snapshot.get("member-3") == entries[3].1)
    }

    @Test func aFlippedIndexByteIsFound() throws {
        let fixture = try KVFixture()
        try fixture.build(Self.entries())
        let indexOffset = try footerField(fixture.dataFile(1), 2)
        let slots = try footerField(fixture.dataFile(1), 3)
        try flipByte(fixture.dataFile(1), at: indexOffset + slots * 4 + 3)
        let snapshot = try fixture.folder.open(version: 1)
        #expect { try snapshot.verify() } throws: { error in
            Self.expectCorrupt(error, mentioning: ["data.rkv", "fails its CRC-32C check"])
        }
        #expect { _ = try fixture.folder.open(version: 1, verification: .atOpen) } throws: { Self.expectCorrupt($0, mentioning: ["block"]) }
    }

    @Test func aDamagedFooterOrBlockTableStopsTheOpen() throws {
        let fixture = try KVFixture()
        try fixture.build(Self.entries())
        let file = fixture.dataFile(1)
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as! Int
        try flipByte(file, at: size - 100)
        #expect { _ = try fixture.folder.open(version: 1) } throws: { Self.expectCorrupt($0, mentioning: ["footer", "byte \(size - 128)"]) }
        try flipByte(file, at: size - 100)

        let table = try footerField(file, 4)
        try flipByte(file, at: table + 2)
        #expect { _ = try fixture.folder.open(version: 1) } throws: { Self.expectCorrupt($0, mentioning: ["block table (bytes \(table)–"]) }
    }

    @Test func aTruncatedFileIsFound() throws {
        let fixture = try KVFixture()
        try fixture.build(Self.entries())
        let file = fixture.dataFile(1)
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as! Int
        let handle = try FileHandle(forUpdating: file)
        try handle.truncate(atOffset: UInt64(size - 1_000))
        try handle.close()
        #expect { _ = try fixture.folder.open(version: 1) } throws: {
            Self.expectCorrupt($0, mentioning: ["\(size - 1_000) bytes but its manifest says \(size)"])
        }
    }

    @Test func aDamagedManifestOrCurrentPointerIsNamed() throws {
        let fixture = try KVFixture()
        try fixture.build(Self.entries())
        let manifestURL = fixture.folder.versionURL(1).appendingPathComponent("manifest.json")
        let manifest = try String(contentsOf: manifestURL, encoding: .utf8)
        try manifest.replacingOccurrences(of: #""dataFile" : "data.rkv""#, with: #""dataFile" : "../../v1/data.rkv""#).write(to: manifestURL, atomically: true, encoding: .utf8)
        #expect { _ = try fixture.folder.open(version: 1) } throws: { Self.expectCorrupt($0, mentioning: ["names the data file \"../../v1/data.rkv\""]) }
        try Data("{ not json".utf8).write(to: manifestURL)
        #expect { _ = try fixture.folder.open(version: 1) } throws: { Self.expectCorrupt($0, mentioning: ["manifest.json", "not a valid KV manifest"]) }
        try Data("banana\n".utf8).write(to: fixture.folder.url.appendingPathComponent("CURRENT"))
        #expect { _ = try fixture.folder.currentVersion() } throws: { Self.expectCorrupt($0, mentioning: ["CURRENT", "banana"]) }
    }

    @Test func aDamagedFileWithTheRightChecksumsFailsTheWholeFileDigest() throws {
        // A byte changed and its block's CRC rewritten to match (a bad copy, say) still fails
        // verification: the manifest's SHA-256 covers the whole file.
        let fixture = try KVFixture()
        let entries = Self.entries()
        try fixture.build(entries)
        let file = fixture.dataFile(1)
        var bytes = try [UInt8](Data(contentsOf: file))
        let offset = recordOffsets(entries)[10] + 8 + entries[10].0.count
        bytes[offset] = UInt8(ascii: "X")
        let block = offset / 4096
        let crc = bytes[(block * 4096)..<(block * 4096 + 4096)].withContiguousStorageIfAvailable { CRC32C.checksum(UnsafeRawBufferPointer($0)) }!
        let table = try footerField(file, 4)
        withUnsafeBytes(of: crc.littleEndian) { for (index, byte) in $0.enumerated() { bytes[table + block * 4 + index] = byte } }
        let tableCRC = bytes[table..<(bytes.count - 128)].withContiguousStorageIfAvailable { CRC32C.checksum(UnsafeRawBufferPointer($0)) }!
        withUnsafeBytes(of: tableCRC.littleEndian) { for (index, byte) in $0.enumerated() { bytes[bytes.count - 8 + index] = byte } }
        let footerCRC = bytes[(bytes.count - 128)..<(bytes.count - 4)].withContiguousStorageIfAvailable { CRC32C.checksum(UnsafeRawBufferPointer($0)) }!
        withUnsafeBytes(of: footerCRC.littleEndian) { for (index, byte) in $0.enumerated() { bytes[bytes.count - 4 + index] = byte } }
        try Data(bytes).write(to: file)

        let snapshot = try fixture.folder.open(version: 1)
        #expect(try snapshot.get("member-10")?.first == UInt8(ascii: "X"), "the block checks pass")
        #expect { try snapshot.verify() } throws: { Self.expectCorrupt($0, mentioning: ["SHA-256"]) }
    }

    @Test func rollbackRefusesADamagedVersion() throws {
        let fixture = try KVFixture()
        let entries = Self.entries()
        try fixture.build(entries)
        try fixture.buildTagged("two", keys: 10)
        try flipByte(fixture.dataFile(1), at: 5_000)
        #expect { try fixture.folder.rollback() } throws: { Self.expectCorrupt($0, mentioning: ["v1/data.rkv"]) }
        #expect(try fixture.folder.currentVersion() == 2)
    }

    /// Seeded random damage (flipped and overwritten bytes, truncation, junk appended) never
    /// crashes a reader and never yields a wrong answer: every lookup returns the value written
    /// or throws `.corruptKV`, and a full check finds every change.
    @Test func randomDamageIsReportedNeverACrashOrAWrongAnswer() throws {
        let fixture = try KVFixture()
        let entries = randomEntries(300, seed: 21, maximumKey: 24, maximumValue: 120)
        try fixture.build(entries)
        let file = fixture.dataFile(1)
        let pristine = try [UInt8](Data(contentsOf: file))
        let absent = randomEntries(50, seed: 22).map(\.0).filter { key in !entries.contains { $0.0 == key } }
        var random = SeededGenerator(seed: 23)
        var detected = 0
        for round in 0..<200 {
            var bytes = pristine
            for _ in 0...random.below(3) {
                switch random.below(4) {
                case 0: bytes[random.below(bytes.count)] ^= UInt8(1 << random.below(8))
                case 1: bytes[random.below(bytes.count)] = UInt8(truncatingIfNeeded: random.next())
                case 2: bytes.removeLast(1 + random.below(min(200, bytes.count - 1)))
                default: bytes += (0..<(1 + random.below(64))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                }
            }
            try Data(bytes).write(to: file)
            let changed = bytes != pristine
            let snapshot: KVSnapshot
            do {
                snapshot = try fixture.folder.open(version: 1)
            } catch let error as RunnelError {
                #expect(error.code == .corruptKV, "round \(round): \(error)")
                detected += 1
                continue
            }
            for (key, value) in entries {
                do {
                    if let got = try snapshot.get(key) { #expect(got == value, "round \(round): a wrong value for \(key)") }
                    else { Issue.record("round \(round): key \(key) was lost without an error") }
                } catch let error as RunnelError {
                    #expect(error.code == .corruptKV)
                }
            }
            for key in absent {
                #expect((try? snapshot.get(key)) ?? nil == nil, "round \(round): an absent key was found")
            }
            do {
                try snapshot.verify()
                #expect(!changed, "round \(round): a full check missed a change")
            } catch let error as RunnelError {
                #expect(error.code == .corruptKV)
                detected += 1
            }
        }
        #expect(detected > 150)
    }

    /// A footer whose CRC was made to match (a crafted file) but whose sizes are absurd is
    /// refused with an error, not a trap on overflow.
    @Test func aCraftedFooterWithAbsurdSizesIsRefused() throws {
        let fixture = try KVFixture()
        try fixture.build(Self.entries())
        let file = fixture.dataFile(1)
        for (field, value) in [(0, UInt64.max), (3, UInt64.max / 4), (5, UInt64(1) << 62), (1, UInt64(1) << 63)] {
            var bytes = try [UInt8](Data(contentsOf: file))
            let start = bytes.count - 128 + 16 + 8 * field
            let saved = Array(bytes[start..<(start + 8)])
            withUnsafeBytes(of: value.littleEndian) { for (index, byte) in $0.enumerated() { bytes[start + index] = byte } }
            let crc = bytes[(bytes.count - 128)..<(bytes.count - 4)].withContiguousStorageIfAvailable { CRC32C.checksum(UnsafeRawBufferPointer($0)) }!
            withUnsafeBytes(of: crc.littleEndian) { for (index, byte) in $0.enumerated() { bytes[bytes.count - 4 + index] = byte } }
            try Data(bytes).write(to: file)
            #expect { _ = try fixture.folder.open(version: 1) } throws: { Self.expectCorrupt($0, mentioning: ["do not fit together"]) }
            bytes.replaceSubrange(start..<(start + 8), with: saved)
        }
    }
}
