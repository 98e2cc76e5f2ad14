/// The layout of a KV version's data file, `data.rkv`, written down byte for byte in
/// `docs/kv-format.md`. Everything is little-endian.
///
/// ```
/// [0, dataLength)                      records: u32 key length, u32 value length, key, value
/// [dataLength, indexOffset)            zero padding to a multiple of 8
/// [indexOffset, +slotCount × 8)        hash index: open addressing, linear probing
/// [blockTableOffset, +blockCount × 4)  CRC-32C of each 4 KiB block of [0, blockTableOffset)
/// [fileSize − 128, fileSize)           footer
/// ```
///
/// A slot is 0 (empty) or `tag << 40 | (recordOffset + 1)`, where `tag` is the top 24 bits of
/// the key's hash: a lookup reads one slot (or a few neighbours, in the same cache line) and then
/// one record, so it touches one or two pages.
enum KVFormat {
    static let magic: [UInt8] = Array("RUNNELKV".utf8)
    static let formatVersion: UInt32 = 1
    static let blockSize = 4096
    static let footerSize = 128
    static let recordHeaderSize = 8
    static let hashSeed: UInt64 = 0x5275_6E6E_656C_4B56
    /// Record offsets are 40 bits wide in a slot.
    static let maximumDataLength = (1 << 40) - 2
    static let offsetMask: UInt64 = (1 << 40) - 1
    /// Keys and values each have a limit that a user hits with a clear error, not a wrap.
    static let maximumKeyLength = 65_535
    static let maximumValueLength = 256 << 20

    /// The slots for `keys` keys: a power of two that keeps the table at most three-quarters full.
    static func slotCount(forKeys keys: Int) -> Int {
        guard keys > 0 else { return 0 }
        var count = 2
        while count * 3 < keys * 4 { count <<= 1 }
        return count
    }

    /// The 64-bit hash of a key: eight bytes at a time, multiply-xorshift mixed, finished with
    /// MurmurHash3's `fmix64`. The steps are listed in `docs/kv-format.md` so other readers can
    /// find keys too.
    @inline(__always)
    static func hash(_ key: UnsafeRawBufferPointer, seed: UInt64 = hashSeed) -> UInt64 {
        var h = seed ^ (UInt64(truncatingIfNeeded: key.count) &* 0x9E37_79B9_7F4A_7C15)
        var index = 0
        let count = key.count
        while count - index >= 8 {
            h = (h ^ mixWord(key.loadUnaligned(fromByteOffset: index, as: UInt64.self).littleEndian)) &* 0x9E37_79B9_7F4A_7C15
            index += 8
        }
        if index < count {
            var word: UInt64 = 0
            var shift: UInt64 = 0
            while index < count {
                word |= UInt64(key[index]) << shift
                shift += 8
                index += 1
            }
            h = (h ^ mixWord(word)) &* 0x9E37_79B9_7F4A_7C15
        }
        return finish(h)
    }

    @inline(__always)
    private static func mixWord(_ word: UInt64) -> UInt64 {
        var w = word &* 0xBF58_476D_1CE4_E5B9
        w ^= w >> 31
        return w
    }

    @inline(__always)
    private static func finish(_ value: UInt64) -> UInt64 {
        var h = value
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }

    @inline(__always)
    static func tag(of hash: UInt64) -> UInt64 { hash >> 40 }
}

/// The last 128 bytes of a data file: where each section starts and how big it is.
struct KVFooter: Equatable {
    var keyCount: UInt64
    var dataLength: UInt64
    var indexOffset: UInt64
    var slotCount: UInt64
    var blockTableOffset: UInt64
    var blockCount: UInt64
    var hashSeed: UInt64 = KVFormat.hashSeed
    var blockTableChecksum: UInt32

    /// The footer's 128 bytes; the last four are the CRC-32C of the 124 before them.
    var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(KVFormat.footerSize)
        out += KVFormat.magic
        Self.put(KVFormat.formatVersion, into: &out)
        Self.put(UInt32(KVFormat.blockSize), into: &out)
        for field in [keyCount, dataLength, indexOffset, slotCount, blockTableOffset, blockCount, hashSeed] {
            Self.put(field, into: &out)
        }
        out += [UInt8](repeating: 0, count: 120 - out.count)
        Self.put(blockTableChecksum, into: &out)
        let checksum = out.withUnsafeBytes { CRC32C.checksum($0) }
        Self.put(checksum, into: &out)
        return out
    }

    /// Reads and checks a footer.
    /// - Parameter problem: Called with what is wrong, to build the caller's error.
    init(_ raw: UnsafeRawBufferPointer, problem: (String) -> RunnelError) throws {
        guard raw.count == KVFormat.footerSize else { throw problem("the footer is \(raw.count) bytes, not \(KVFormat.footerSize)") }
        guard raw.prefix(8).elementsEqual(KVFormat.magic) else { throw problem("the footer does not start with RUNNELKV") }
        let stored = raw.loadUnaligned(fromByteOffset: 124, as: UInt32.self).littleEndian
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw.prefix(124)))
        guard stored == computed else {
            throw problem(String(format: "the footer fails its CRC-32C check (stored 0x%08x, computed 0x%08x)", stored, computed))
        }
        let version = raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
        guard version == KVFormat.formatVersion else { throw problem("the file is format \(version); this Runnel reads format \(KVFormat.formatVersion)") }
        let blockSize = raw.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian
        guard blockSize == KVFormat.blockSize else { throw problem("the block size is \(blockSize), not \(KVFormat.blockSize)") }
        func field(_ index: Int) -> UInt64 { raw.loadUnaligned(fromByteOffset: 16 + 8 * index, as: UInt64.self).littleEndian }
        keyCount = field(0)
        dataLength = field(1)
        indexOffset = field(2)
        slotCount = field(3)
        blockTableOffset = field(4)
        blockCount = field(5)
        hashSeed = field(6)
        blockTableChecksum = raw.loadUnaligned(fromByteOffset: 120, as: UInt32.self).littleEndian
    }

    init(keyCount: UInt64, dataLength: UInt64, indexOffset: UInt64, slotCount: UInt64, blockTableOffset: UInt64, blockCount: UInt64, blockTableChecksum: UInt32) {
        self.keyCount = keyCount
        self.dataLength = dataLength
        self.indexOffset = indexOffset
        self.slotCount = slotCount
        self.blockTableOffset = blockTableOffset
        self.blockCount = blockCount
        self.blockTableChecksum = blockTableChecksum
    }

    /// Checks that the sections fit the file and each other.
    func validate(fileSize: Int, problem: (String) -> RunnelError) throws {
        let size = UInt64(fileSize)
        let blockBytes = UInt64(KVFormat.blockSize)
        // Every field is bounded by the file's size before any arithmetic, so a footer that
        // passes its CRC by chance (or by design) cannot overflow a multiplication here.
        guard keyCount <= size, dataLength <= size, indexOffset <= size, slotCount <= size,
              blockTableOffset <= size, blockCount <= size,
              keyCount <= dataLength / UInt64(KVFormat.recordHeaderSize),
              dataLength <= UInt64(KVFormat.maximumDataLength),
              indexOffset >= dataLength, indexOffset % 8 == 0, indexOffset - dataLength < 8,
              slotCount == UInt64(KVFormat.slotCount(forKeys: Int(keyCount))),
              blockTableOffset == indexOffset + slotCount * 8,
              blockCount == (blockTableOffset + blockBytes - 1) / blockBytes,
              blockTableOffset + blockCount * 4 + UInt64(KVFormat.footerSize) == size
        else {
            throw problem("the footer's sections do not fit together or the file's \(fileSize) bytes (keys \(keyCount), data \(dataLength), index at \(indexOffset) with \(slotCount) slots, block table at \(blockTableOffset) with \(blockCount) blocks)")
        }
    }

    private static func put<T: FixedWidthInteger>(_ value: T, into out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out += $0 }
    }
}
