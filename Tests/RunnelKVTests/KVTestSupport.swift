import Foundation
import Runnel
import RunnelTesting

/// A store folder inside a temporary home, for tests that drive the KV files directly.
struct KVFixture {
    let temporary: TemporaryHome
    let folder: KVStoreFolder

    init(_ name: String = "features") throws {
        temporary = try TemporaryHome(label: "kv")
        folder = try KVStoreFolder(home: temporary.home, name: name)
    }

    /// Builds a version holding `entries`, in the order given.
    @discardableResult
    func build(_ entries: [([UInt8], [UInt8])], keep: Int = 3) throws -> KVManifest {
        try folder.build(keep: keep) { writer in
            for (key, value) in entries { try writer.add(key: key, value: value) }
        }
    }

    /// Builds a version whose values say which version they belong to: `"<tag>:<key>"`.
    @discardableResult
    func buildTagged(_ tag: String, keys: Int, keep: Int = 3) throws -> KVManifest {
        try build((0..<keys).map { (Array("key-\($0)".utf8), Array("\(tag):key-\($0)".utf8)) }, keep: keep)
    }

    func dataFile(_ version: Int) -> URL {
        folder.versionURL(version).appendingPathComponent("data.rkv")
    }
}

/// Random keys and values, the same for a seed.
func randomEntries(_ count: Int, seed: UInt64, maximumKey: Int = 40, maximumValue: Int = 300) -> [([UInt8], [UInt8])] {
    var random = SeededGenerator(seed: seed)
    var seen = Set<[UInt8]>()
    var entries: [([UInt8], [UInt8])] = []
    while entries.count < count {
        let key = (0..<(1 + random.below(maximumKey))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        guard seen.insert(key).inserted else { continue }
        let value = (0..<random.below(maximumValue + 1)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        entries.append((key, value))
    }
    return entries
}

/// Flips one bit of a byte of a file on disk.
func flipByte(_ url: URL, at offset: Int) throws {
    let handle = try FileHandle(forUpdating: url)
    defer { try? handle.close() }
    try handle.seek(toOffset: UInt64(offset))
    let byte = try handle.read(upToCount: 1)![0]
    try handle.seek(toOffset: UInt64(offset))
    try handle.write(contentsOf: [byte ^ 0x10])
}

/// The byte offset of each record in a data file written from `entries` in order.
func recordOffsets(_ entries: [([UInt8], [UInt8])]) -> [Int] {
    var offsets: [Int] = []
    var position = 0
    for (key, value) in entries {
        offsets.append(position)
        position += 8 + key.count + value.count
    }
    return offsets
}

/// Reads a little-endian UInt64 field of a data file's footer (0 = key count, 1 = data length,
/// 2 = index offset, 3 = slot count, 4 = block table offset, 5 = block count).
func footerField(_ url: URL, _ index: Int) throws -> Int {
    let data = try Data(contentsOf: url)
    let start = data.count - 128 + 16 + 8 * index
    return data.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: start, as: UInt64.self).littleEndian) }
}
