#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CRunnelChecksum
import Crypto
import Foundation

/// One version of a KV store, memory-mapped: lookups read the mapping directly, with no SQLite
/// and no system call on the read path.
///
/// A snapshot stays valid for as long as you hold it, even after the store switches to a newer
/// version and deletes this one: the mapping keeps the file's pages alive until the last
/// reference goes away. ``KVStore`` hands out the current one; hold a snapshot when several
/// lookups must come from the same version.
///
/// Each 4 KiB block is checked against its CRC-32C the first time a lookup touches it (or all
/// at open, with ``Verification/atOpen``); a damaged block throws ``RunnelError`` `.corruptKV`
/// naming the file and byte range. Snapshots are safe to use from many threads at once.
public final class KVSnapshot: @unchecked Sendable {
    // @unchecked: everything is immutable after init except the per-block "checked" flags,
    // which are one-byte atomics (runnel_flag_load/store); checking a block twice is harmless.

    /// When blocks are checked against their checksums.
    public enum Verification: Sendable {
        /// Each block the first time a lookup touches it.
        case onFirstTouch
        /// Every block, and the whole file's SHA-256, when the snapshot opens.
        case atOpen
    }

    /// The store's name.
    public let store: String
    /// The version number.
    public let version: Int
    /// The version's manifest.
    public let manifest: KVManifest
    /// The data file.
    public let fileURL: URL
    private let base: UnsafeRawPointer
    private let mappedLength: Int
    private let footer: KVFooter
    private let slotMask: Int
    private let indexOffset: Int
    private let dataLength: Int
    private let blockTable: UnsafeRawPointer
    private let checked: UnsafeMutablePointer<UInt8>

    /// Opens a version folder (`kv/<store>/v<N>`).
    /// - Throws: ``RunnelError`` `.corruptKV` when the manifest, the footer or the block table
    ///   is damaged or they disagree; `.io` when the file cannot be opened or mapped.
    public init(versionFolder: URL, verification: Verification = .onFirstTouch) throws {
        let manifest = try KVManifest.read(from: versionFolder.appendingPathComponent("manifest.json"))
        guard !manifest.dataFile.isEmpty, !manifest.dataFile.contains("/"), !manifest.dataFile.hasPrefix(".") else {
            throw RunnelError(.corruptKV, "\(versionFolder.path)/manifest.json names the data file \"\(manifest.dataFile)\", which is not a file of the version folder",
                              hint: "Roll the store back with `runnel kv rollback \(manifest.store)`, or build a new version with `runnel kv publish \(manifest.store)`")
        }
        let fileURL = versionFolder.appendingPathComponent(manifest.dataFile)
        func corrupt(_ problem: String) -> RunnelError {
            RunnelError(.corruptKV, "\(fileURL.path) is damaged: \(problem)",
                        hint: "Run `runnel kv verify \(manifest.store)`; roll back with `runnel kv rollback \(manifest.store)` or build a new version with `runnel kv publish \(manifest.store)`")
        }
        let fd = open(fileURL.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DurableFile.error("open", fileURL) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw DurableFile.error("stat", fileURL) }
        let size = Int(info.st_size)
        guard size == manifest.fileSize else {
            throw corrupt("it is \(size) bytes but its manifest says \(manifest.fileSize)")
        }
        guard size >= KVFormat.footerSize else { throw corrupt("it is \(size) bytes, shorter than its footer") }
        guard let mapping = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), mapping != MAP_FAILED else {
            throw DurableFile.error("map", fileURL)
        }
        let base = UnsafeRawPointer(mapping)
        do {
            let footer = try KVFooter(UnsafeRawBufferPointer(start: base + size - KVFormat.footerSize, count: KVFormat.footerSize), problem: {
                corrupt("\($0) (footer at byte \(size - KVFormat.footerSize))")
            })
            try footer.validate(fileSize: size, problem: corrupt)
            guard footer.keyCount == UInt64(manifest.keyCount) else {
                throw corrupt("its footer says \(footer.keyCount) keys but its manifest says \(manifest.keyCount)")
            }
            let tableBytes = UnsafeRawBufferPointer(start: base + Int(footer.blockTableOffset), count: Int(footer.blockCount) * 4)
            let tableChecksum = CRC32C.checksum(tableBytes)
            guard tableChecksum == footer.blockTableChecksum else {
                throw corrupt(String(format: "the block table (bytes %d–%d) fails its CRC-32C check (stored 0x%08x, computed 0x%08x)",
                                     Int(footer.blockTableOffset), Int(footer.blockTableOffset) + tableBytes.count - 1, footer.blockTableChecksum, tableChecksum))
            }
            self.footer = footer
        } catch {
            munmap(mapping, size)
            throw error
        }
        self.store = manifest.store
        self.version = manifest.version
        self.manifest = manifest
        self.fileURL = fileURL
        self.base = base
        mappedLength = size
        slotMask = Int(footer.slotCount) - 1
        indexOffset = Int(footer.indexOffset)
        dataLength = Int(footer.dataLength)
        blockTable = base + Int(footer.blockTableOffset)
        checked = .allocate(capacity: max(1, Int(footer.blockCount)))
        checked.initialize(repeating: 0, count: max(1, Int(footer.blockCount)))
        // Lookups jump around: read-ahead would only pull in pages nobody asked for.
        _ = madvise(mapping, size, MADV_RANDOM)
        if verification == .atOpen { try verify() }
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), mappedLength)
        checked.deallocate()
    }

    /// How many keys the version holds.
    public var keyCount: Int { Int(footer.keyCount) }

    // MARK: - Lookups

    /// The value stored for `key`, or nil when the version does not have it.
    /// - Throws: ``RunnelError`` `.corruptKV` when a block the lookup reads is damaged.
    public func get(_ key: some KVKey) throws -> [UInt8]? {
        try key.withKeyBytes { try copyValue(forKey: $0) }
    }

    /// The value stored for a key given as bytes, or nil. Not generic, so a caller in another
    /// module does not pay for an unspecialised key protocol on the hot path.
    public func get(_ key: [UInt8]) throws -> [UInt8]? {
        try key.withUnsafeBytes { try copyValue(forKey: $0) }
    }

    /// The value stored for a key given as text (its UTF-8), or nil.
    public func get(_ key: String) throws -> [UInt8]? {
        var key = key
        return try key.withUTF8 { try copyValue(forKey: UnsafeRawBufferPointer($0)) }
    }

    private func copyValue(forKey key: UnsafeRawBufferPointer) throws -> [UInt8]? {
        // `Array(_:)` of the buffer, not `Array(unsafeUninitializedCapacity:)`: the latter
        // reaches the standard library's unspecialised buffer initialiser, which looks up the
        // array storage's type metadata in the runtime's cache on every call (about 40 ns of
        // a 70 ns copy of a 100-byte value, measured in isolation).
        try withValue(forKey: key) { value in value.map { Array($0) } }
    }

    /// Whether the version has `key`.
    public func contains(_ key: some KVKey) throws -> Bool {
        try key.withKeyBytes { try withValue(forKey: $0) { $0 != nil } }
    }

    /// Calls `body` with the value's bytes in the mapping, without copying them, or with nil
    /// when the key is absent. The bytes are valid only inside `body`.
    public func withValue<Result>(forKey key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer?) throws -> Result) throws -> Result {
        guard slotMask >= 0 else { return try body(nil) }
        let hash = KVFormat.hash(key)
        let tag = KVFormat.tag(of: hash)
        var index = Int(truncatingIfNeeded: hash) & slotMask
        for _ in 0...slotMask {
            let slotOffset = indexOffset + index &* 8
            // The index starts at a multiple of 8, so a slot never straddles two blocks.
            try ensureChecked(block: slotOffset / KVFormat.blockSize)
            let slot = base.loadUnaligned(fromByteOffset: slotOffset, as: UInt64.self).littleEndian
            if slot == 0 { return try body(nil) }
            if slot >> 40 == tag {
                let offset = Int(slot & KVFormat.offsetMask) - 1
                guard offset + KVFormat.recordHeaderSize <= dataLength else {
                    throw corruption("slot \(index) (byte \(slotOffset)) points at byte \(offset), past the records' end at \(dataLength)")
                }
                let (keyStart, keyLength, valueLength) = try record(at: offset)
                if keyLength == key.count {
                    try ensureChecked(keyStart, count: keyLength + valueLength)
                    if RawBytes.equal(UnsafeRawBufferPointer(start: base + keyStart, count: keyLength), key) {
                        return try body(UnsafeRawBufferPointer(start: base + keyStart + keyLength, count: valueLength))
                    }
                }
            }
            index = (index + 1) & slotMask
        }
        throw corruption("the index has no empty slot, so a missing key cannot be told apart")
    }

    /// Calls `body` with every key and value, in the order they were written (the builder's:
    /// sorted by key for a pipeline's store).
    public func forEach(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
        var offset = 0
        while offset < dataLength {
            guard offset + KVFormat.recordHeaderSize <= dataLength else {
                throw corruption("the record at byte \(offset) runs past the records' end at \(dataLength)")
            }
            let (keyStart, keyLength, valueLength) = try record(at: offset)
            try ensureChecked(keyStart, count: keyLength + valueLength)
            try body(UnsafeRawBufferPointer(start: base + keyStart, count: keyLength),
                     UnsafeRawBufferPointer(start: base + keyStart + keyLength, count: valueLength))
            offset = keyStart + keyLength + valueLength
        }
    }

    /// Reads the header of the record at `offset` (checked to lie within the records) and
    /// checks that the record ends within them.
    @inline(__always)
    private func record(at offset: Int) throws -> (keyStart: Int, keyLength: Int, valueLength: Int) {
        try ensureChecked(offset, count: KVFormat.recordHeaderSize)
        let keyLength = Int(base.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
        let valueLength = Int(base.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self).littleEndian)
        let keyStart = offset + KVFormat.recordHeaderSize
        guard keyStart + keyLength + valueLength <= dataLength else {
            throw corruption("the record at byte \(offset) runs past the records' end at \(dataLength)")
        }
        return (keyStart, keyLength, valueLength)
    }

    // MARK: - Checking

    /// Checks every block, the whole file's SHA-256 against the manifest, and that the index
    /// finds every record and holds nothing else.
    /// - Throws: ``RunnelError`` `.corruptKV` naming the first problem and where it is.
    public func verify() throws {
        let blockCount = Int(footer.blockCount)
        for block in 0..<blockCount { try check(block: block) }
        var digest = SHA256()
        digest.update(bufferPointer: UnsafeRawBufferPointer(start: base, count: mappedLength))
        let hex = digest.finalize().map { String(format: "%02x", $0) }.joined()
        guard hex == manifest.sha256 else {
            throw corruption("its SHA-256 is \(hex) but its manifest says \(manifest.sha256)")
        }
        var records = 0
        try forEach { key, _ in
            records += 1
            guard try withValue(forKey: key, { $0 != nil }) else {
                throw corruption("record \(records) (key \(KVKeyText.describe(key))) is not reachable through the index")
            }
        }
        var used = 0
        if slotMask >= 0 {
            for index in 0...slotMask where base.loadUnaligned(fromByteOffset: indexOffset + index * 8, as: UInt64.self) != 0 { used += 1 }
        }
        guard records == keyCount, used == keyCount else {
            throw corruption("it holds \(records) records and \(used) index entries, but its footer says \(keyCount) keys")
        }
    }

    /// Checks the blocks `[offset, offset + count)` lies in, unless a lookup already has.
    @inline(__always)
    private func ensureChecked(_ offset: Int, count: Int) throws {
        let first = offset / KVFormat.blockSize
        let last = (offset + max(count, 1) - 1) / KVFormat.blockSize
        try ensureChecked(block: first)
        if last != first { try ensureChecked(blocks: first + 1, through: last) }
    }

    @inline(__always)
    private func ensureChecked(block: Int) throws {
        if runnel_flag_load(checked + block) == 0 { try check(block: block) }
    }

    /// The rare case of a range that spans blocks, kept out of line so that the lookup's common
    /// path stays short enough for the processor to overlap one lookup's memory reads with the next's.
    @inline(never)
    private func ensureChecked(blocks first: Int, through last: Int) throws {
        for block in first...last { try ensureChecked(block: block) }
    }

    private func check(block: Int) throws {
        let start = block * KVFormat.blockSize
        let end = min(start + KVFormat.blockSize, Int(footer.blockTableOffset))
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(start: base + start, count: end - start))
        let stored = blockTable.loadUnaligned(fromByteOffset: block * 4, as: UInt32.self).littleEndian
        guard computed == stored else {
            throw corruption(String(format: "block %d (bytes %d–%d) fails its CRC-32C check (stored 0x%08x, computed 0x%08x)", block, start, end - 1, stored, computed))
        }
        runnel_flag_store(checked + block, 1)
    }

    private func corruption(_ problem: String) -> RunnelError {
        RunnelError(.corruptKV, "\(fileURL.path) (store \(store), version \(version)) is damaged: \(problem)",
                    hint: "Run `runnel kv verify \(store)`; roll back with `runnel kv rollback \(store)` or build a new version with `runnel kv publish \(store)`")
    }
}
