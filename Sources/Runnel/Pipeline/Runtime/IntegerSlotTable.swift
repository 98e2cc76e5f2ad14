/// The windows of integer keys, by (key, window start): an open-addressing hash table with
/// linear probing, for the per-event lookup of ``FixedWindowOperator``.
///
/// A `Dictionary` hashes each lookup with SipHash, which took longer than the rest of the
/// lookup; here a lookup is two multiplies and usually one probe. The multipliers are mixed with
/// a seed drawn per table, so keys chosen to collide in one process do not in another. Values
/// are `AnyObject`, so the table is not generic: code generic over the event type looks up
/// type metadata at run time on every access to a generic container.
struct IntegerSlotTable {
    private struct Entry {
        var key: Int64
        var start: Int64
        var value: AnyObject?
    }

    private var entries: ContiguousArray<Entry>
    private var mask: Int
    private let seed: UInt64
    /// Entries in use.
    private(set) var count = 0

    init() {
        entries = ContiguousArray(repeating: Entry(key: 0, start: 0, value: nil), count: 64)
        mask = 63
        seed = UInt64.random(in: 1...UInt64.max)
    }

    @inline(__always)
    private func home(key: Int64, start: Int64) -> Int {
        var hash = (UInt64(bitPattern: key) ^ seed) &* 0x9E37_79B9_7F4A_7C15
        hash ^= UInt64(bitPattern: start) &* 0xC2B2_AE3D_27D4_EB4F
        hash ^= hash >> 31
        return Int(truncatingIfNeeded: hash) & mask
    }

    /// The value for (key, start), or nil.
    func value(key: Int64, start: Int64) -> AnyObject? {
        unretainedValue(key: key, start: start)?.takeUnretainedValue()
    }

    /// The value for (key, start), or nil, not retained: valid while the table holds it. The
    /// per-event path uses this: retaining a slot is an atomic write to its reference count, on
    /// a cache line that is usually not in the cache yet.
    func unretainedValue(key: Int64, start: Int64) -> Unmanaged<AnyObject>? {
        entries.withUnsafeBufferPointer { entries in
            var index = home(key: key, start: start)
            while let value = entries[index].value {
                if entries[index].key == key, entries[index].start == start { return Unmanaged.passUnretained(value) }
                index = (index + 1) & mask
            }
            return nil
        }
    }

    /// Sets (key, start) to `value`; nil removes it.
    mutating func set(_ value: AnyObject?, key: Int64, start: Int64) {
        var index = home(key: key, start: start)
        while entries[index].value != nil {
            if entries[index].key == key, entries[index].start == start {
                if let value {
                    entries[index].value = value
                } else {
                    remove(at: index)
                }
                return
            }
            index = (index + 1) & mask
        }
        guard let value else { return }
        entries[index] = Entry(key: key, start: start, value: value)
        count += 1
        if count * 2 > entries.count { grow() }
    }

    /// Empties the slot at `index` and moves later entries of the same run back into the gap,
    /// so that no lookup stops early at it (no tombstones).
    private mutating func remove(at index: Int) {
        var gap = index
        var next = (index + 1) & mask
        while entries[next].value != nil {
            let wanted = home(key: entries[next].key, start: entries[next].start)
            // The entry at `next` may fill the gap if its home is not cyclically in (gap, next].
            let reachable = gap <= next ? (wanted <= gap || wanted > next) : (wanted <= gap && wanted > next)
            if reachable {
                entries[gap] = entries[next]
                gap = next
            }
            next = (next + 1) & mask
        }
        entries[gap] = Entry(key: 0, start: 0, value: nil)
        count -= 1
    }

    private mutating func grow() {
        let old = entries
        entries = ContiguousArray(repeating: Entry(key: 0, start: 0, value: nil), count: old.count * 2)
        mask = entries.count - 1
        count = 0
        for entry in old where entry.value != nil { set(entry.value, key: entry.key, start: entry.start) }
    }
}
