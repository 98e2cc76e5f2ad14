import Crypto
import Foundation

/// Writes one version's `data.rkv` front to back (`docs/kv-format.md`): records as they are
/// added, then the hash index, the block table and the footer, then fsync.
///
/// The file is written in one pass, so the per-block CRC-32Cs and the SHA-256 of the whole file
/// are computed on the way out; nothing is read back except a key whose tag matches another's
/// (to refuse a duplicate).
///
/// ```swift
/// let writer = try KVDataFileWriter(url)
/// try writer.add(key: Array("42".utf8), value: Array(#"{"connections":17}"#.utf8))
/// let summary = try writer.finish()
/// ```
package final class KVDataFileWriter {
    /// What a finished file holds.
    package struct Summary: Sendable {
        package let keyCount: Int
        package let fileSize: Int
        /// The SHA-256 of the whole file, in lower-case hex.
        package let sha256: String
    }

    package let url: URL
    private let file: DurableFile
    private var buffer: [UInt8] = []
    private static let bufferLimit = 1 << 20
    /// Bytes handed to `process` so far: the position of the next byte in the file.
    private var position = 0
    /// Hash and record offset of every key, for the index.
    private var entries: [(hash: UInt64, offset: UInt64)] = []
    private var blockChecksums: [UInt32] = []
    private var blockChecksum: UInt32 = 0
    private var blockFill = 0
    private var coversBlocks = true
    private var digest = SHA256()
    private var finished = false

    /// Creates (or empties) the file.
    package init(_ url: URL) throws {
        self.url = url
        file = try DurableFile(url, create: true)
        try file.truncate(to: 0)
        buffer.reserveCapacity(Self.bufferLimit + 4096)
    }

    /// The keys added so far.
    package var keyCount: Int { entries.count }

    /// Adds a key and its value. Keys must be unique; ``finish()`` refuses a duplicate.
    /// - Throws: ``RunnelError`` `.invalidArgument` for a key over 64 KiB or a value over 256 MiB.
    package func add(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws {
        precondition(!finished, "add after finish")
        guard key.count <= KVFormat.maximumKeyLength else {
            throw RunnelError(.invalidArgument, "a KV key is \(key.count) bytes; keys may be up to \(KVFormat.maximumKeyLength) bytes",
                              hint: "Use a shorter key, such as an id or a hash of the long one")
        }
        guard value.count <= KVFormat.maximumValueLength else {
            throw RunnelError(.invalidArgument, "the value of a KV key is \(value.count) bytes; values may be up to \(KVFormat.maximumValueLength) bytes",
                              hint: "Store large objects elsewhere and keep a reference in the value")
        }
        let offset = position + buffer.count
        guard offset + KVFormat.recordHeaderSize + key.count + value.count <= KVFormat.maximumDataLength else {
            throw RunnelError(.invalidArgument, "a KV version's records may take up to 1 TiB; this one would take more", hint: "Split the store")
        }
        entries.append((KVFormat.hash(key), UInt64(offset)))
        appendInteger(UInt32(key.count))
        appendInteger(UInt32(value.count))
        try append(key)
        try append(value)
    }

    /// Adds a key and its value.
    package func add(key: [UInt8], value: [UInt8]) throws {
        try key.withUnsafeBytes { key in try value.withUnsafeBytes { try add(key: key, value: $0) } }
    }

    /// Writes the index, the block table and the footer, and fsyncs the file.
    /// - Throws: ``RunnelError`` `.invalidArgument` when a key was added twice.
    package func finish() throws -> Summary {
        precondition(!finished, "finish twice")
        finished = true
        let dataLength = position + buffer.count
        buffer += [UInt8](repeating: 0, count: (8 - dataLength % 8) % 8)
        let indexOffset = position + buffer.count
        try flush()
        let slots = try buildIndex()
        try slots.withUnsafeBytes { raw in
            // Slots are little-endian on disk; on a big-endian host they are swapped first.
            if UInt64(1).littleEndian == 1 {
                try append(raw)
            } else {
                try slots.map(\.littleEndian).withUnsafeBytes { try append($0) }
            }
        }
        let blockTableOffset = position + buffer.count
        try flush()
        if blockFill > 0 { blockChecksums.append(blockChecksum) }
        coversBlocks = false
        var table = [UInt8]()
        table.reserveCapacity(blockChecksums.count * 4)
        for checksum in blockChecksums { withUnsafeBytes(of: checksum.littleEndian) { table += $0 } }
        let tableChecksum = table.withUnsafeBytes { CRC32C.checksum($0) }
        try table.withUnsafeBytes { try append($0) }
        let footer = KVFooter(keyCount: UInt64(entries.count), dataLength: UInt64(dataLength), indexOffset: UInt64(indexOffset),
                              slotCount: UInt64(slots.count), blockTableOffset: UInt64(blockTableOffset),
                              blockCount: UInt64(blockChecksums.count), blockTableChecksum: tableChecksum)
        try footer.bytes.withUnsafeBytes { try append($0) }
        try flush()
        try file.sync()
        let hex = digest.finalize().map { String(format: "%02x", $0) }.joined()
        return Summary(keyCount: entries.count, fileSize: position, sha256: hex)
    }

    // MARK: - Index

    private func buildIndex() throws -> [UInt64] {
        let count = KVFormat.slotCount(forKeys: entries.count)
        guard count > 0 else { return [] }
        var slots = [UInt64](repeating: 0, count: count)
        let mask = count - 1
        for (hash, offset) in entries {
            let tag = KVFormat.tag(of: hash)
            var index = Int(truncatingIfNeeded: hash) & mask
            while slots[index] != 0 {
                if slots[index] >> 40 == tag, try sameKey(at: (slots[index] & KVFormat.offsetMask) - 1, as: offset) {
                    let key = try readKey(at: offset)
                    throw RunnelError(.invalidArgument, "the KV key \(KVKeyText.describe(key)) was added twice to \(url.path)",
                                      hint: "Give each key one value (the pipeline's key must be unique per output row)")
                }
                index = (index + 1) & mask
            }
            slots[index] = tag << 40 | (offset + 1)
        }
        return slots
    }

    private func readKey(at offset: UInt64) throws -> [UInt8] {
        let header = try file.read(at: Int(offset), count: KVFormat.recordHeaderSize)
        let length = header.withUnsafeBytes { Int($0.loadUnaligned(as: UInt32.self).littleEndian) }
        return try file.read(at: Int(offset) + KVFormat.recordHeaderSize, count: length)
    }

    private func sameKey(at first: UInt64, as second: UInt64) throws -> Bool {
        try readKey(at: first) == readKey(at: second)
    }

    // MARK: - Output

    private func appendInteger(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { buffer += $0 }
    }

    private func append(_ bytes: UnsafeRawBufferPointer) throws {
        if buffer.count + bytes.count <= Self.bufferLimit {
            buffer += bytes
            return
        }
        try flush()
        if bytes.count >= Self.bufferLimit {
            try process(bytes)
        } else {
            buffer += bytes
        }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try process($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes bytes at the end of the file, folding them into the block checksums (until the
    /// block table) and the whole file's digest.
    private func process(_ bytes: UnsafeRawBufferPointer) throws {
        try file.write(bytes, at: position)
        position += bytes.count
        digest.update(bufferPointer: bytes)
        guard coversBlocks else { return }
        var rest = bytes
        while !rest.isEmpty {
            let take = min(rest.count, KVFormat.blockSize - blockFill)
            blockChecksum = CRC32C.update(blockChecksum, UnsafeRawBufferPointer(rebasing: rest.prefix(take)))
            blockFill += take
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(take))
            if blockFill == KVFormat.blockSize {
                blockChecksums.append(blockChecksum)
                blockChecksum = 0
                blockFill = 0
            }
        }
    }
}
