import Runnel

/// The key/value pairs of the `kv-*` scenarios, made up deterministically: a member id as
/// decimal text for key, and a JSON object of about 100 bytes of that member's features for
/// value.
///
/// Key `i` is the 8-digit id `10000000 + 16i + r`, with `r` seeded-random in `0..<16`, so keys
/// are unique and come in increasing order — byte order too, since they all have 8 digits: the
/// order a pipeline writes its store in (sorted by key), and SQLite's fastest insertion order.
/// Each value starts with `{"member_id":` and the key's digits, so a value found for a key can
/// be told to belong to it (``LookupCheck``). Keys and values sit in two flat buffers, so
/// handing them to either side allocates nothing.
///
/// ```json
/// {"member_id":10000013,"connections":523,"posts_30d":12,"score":0.0734,"segment":"sales","active":true}
/// ```
struct KVBenchPairs: Sendable {
    /// How many pairs.
    let count: Int
    /// Every key is this long.
    static let keyLength = 8
    /// Where a value holds its key's digits: right after `{"member_id":`.
    static let keyOffsetInValue = 13

    /// Keys, `keyLength` bytes each, back to back.
    private let keyBytes: [UInt8]
    /// Values, back to back; value `i` is `valueBytes[valueStarts[i]..<valueStarts[i + 1]]`.
    private let valueBytes: [UInt8]
    private let valueStarts: [Int]
    /// Each key's `r` (see above), to make keys that are not there.
    private let residues: [UInt8]

    private static let firstID = 10_000_000
    private static let segments = ["engineering", "sales", "design", "marketing", "finance", "operations", "support"]

    /// Makes `count` pairs (at most 5,000,000, so every id has 8 digits); the same count gives
    /// the same pairs.
    init(count: Int) {
        precondition(count > 0 && count <= 5_000_000, "kv bench pairs: 1 to 5,000,000 keys")
        var random = SeededGenerator(seed: 0x4B56_0000_5EED)
        var keys = [UInt8]()
        keys.reserveCapacity(count * Self.keyLength)
        var values = [UInt8]()
        values.reserveCapacity(count * 104)
        var starts = [Int]()
        starts.reserveCapacity(count + 1)
        var residues = [UInt8]()
        residues.reserveCapacity(count)
        for index in 0..<count {
            let residue = random.below(16)
            let id = String(Self.firstID + 16 * index + residue)
            let score = String(random.below(10_000))
            let value = "{\"member_id\":\(id),\"connections\":\(random.below(5_000)),\"posts_30d\":\(random.below(60)),"
                + "\"score\":0.\(String(repeating: "0", count: 4 - score.count) + score),\"segment\":\"\(random.pick(Self.segments))\","
                + "\"active\":\(random.chance(0.8))}"
            residues.append(UInt8(residue))
            keys += id.utf8
            starts.append(values.count)
            values += value.utf8
        }
        starts.append(values.count)
        self.count = count
        keyBytes = keys
        valueBytes = values
        valueStarts = starts
        self.residues = residues
    }

    /// Key `index`, as an array of its own.
    func key(_ index: Int) -> [UInt8] {
        Array(keyBytes[index * Self.keyLength..<(index + 1) * Self.keyLength])
    }

    /// Value `index`, as an array of its own.
    func value(_ index: Int) -> [UInt8] {
        Array(valueBytes[valueStarts[index]..<valueStarts[index + 1]])
    }

    /// Bytes of every value together.
    var totalValueBytes: Int { valueBytes.count }

    /// Bytes of every key together.
    var totalKeyBytes: Int { keyBytes.count }

    /// Calls `body` with every pair in key order, as views of the flat buffers (no copies).
    func forEachPair(_ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void) rethrows {
        try keyBytes.withUnsafeBytes { keys in
            try valueBytes.withUnsafeBytes { values in
                try valueStarts.withUnsafeBufferPointer { starts in
                    for index in 0..<count {
                        try body(UnsafeRawBufferPointer(rebasing: keys[index * Self.keyLength..<(index + 1) * Self.keyLength]),
                                 UnsafeRawBufferPointer(rebasing: values[starts[index]..<starts[index + 1]]))
                    }
                }
            }
        }
    }

    /// Every index once, in a seeded random order (Fisher–Yates): the order of a lookup pass.
    func shuffledIndices(seed: UInt64) -> [Int] {
        var random = SeededGenerator(seed: seed)
        var order = Array(0..<count)
        for index in stride(from: count - 1, to: 0, by: -1) {
            order.swapAt(index, random.below(index + 1))
        }
        return order
    }

    /// `number` keys shaped like the others (8 digits, among the existing ids) that are not
    /// there: another `r` of a random key's bucket.
    func absentKeys(_ number: Int, seed: UInt64) -> [[UInt8]] {
        var random = SeededGenerator(seed: seed)
        return (0..<number).map { _ in
            let index = random.below(count)
            let residue = (Int(residues[index]) + 1 + random.below(15)) % 16
            return Array(String(Self.firstID + 16 * index + residue).utf8)
        }
    }
}

/// What a pass of lookups found, folded so that both sides can be compared with what was
/// written without keeping the values: how many were found, their bytes, and the wrapping sum
/// of the key digits each value carries (a value of the wrong key changes the sum).
struct LookupCheck: Equatable, Sendable {
    var found = 0
    var missing = 0
    var bytes = 0
    var keyWords: UInt64 = 0

    /// What a pass over `keys` must find: every key, with its own value.
    static func expected(for indices: [Int], in pairs: KVBenchPairs) -> LookupCheck {
        var check = LookupCheck()
        for index in indices {
            check.add(pairs.value(index))
        }
        return check
    }

    /// Adds one lookup's answer.
    @inline(__always)
    mutating func add(_ value: UnsafeRawBufferPointer?) {
        guard let value else {
            missing += 1
            return
        }
        found += 1
        bytes &+= value.count
        if value.count >= KVBenchPairs.keyOffsetInValue + KVBenchPairs.keyLength {
            keyWords &+= value.loadUnaligned(fromByteOffset: KVBenchPairs.keyOffsetInValue, as: UInt64.self)
        }
    }

    /// Adds one lookup's answer.
    @inline(__always)
    mutating func add(_ value: [UInt8]?) {
        guard let value else {
            missing += 1
            return
        }
        value.withUnsafeBytes { add($0) }
    }

    var description: String {
        "\(found) found, \(missing) missing, \(bytes) value bytes, key digits sum \(keyWords)"
    }
}
