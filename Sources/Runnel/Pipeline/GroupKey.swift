import GRDB

/// The key events are grouped by after `keyBy`: one or more column values.
///
/// One column, the common case, is held inline so keying an event allocates nothing for integer
/// keys and short strings.
enum GroupKey: Hashable, Sendable {
    case single(DatabaseValue)
    case many([DatabaseValue])

    init(_ values: [DatabaseValue]) {
        self = values.count == 1 ? .single(values[0]) : .many(values)
    }

    /// The key's column values, in order.
    var values: [DatabaseValue] {
        switch self {
        case .single(let value): [value]
        case .many(let values): values
        }
    }

    /// A stable text form for the late and dead-letter tables.
    var text: String {
        values.map { value -> String in
            switch value.storage {
            case .null: "null"
            case .int64(let number): String(number)
            case .double(let number): String(number)
            case .string(let text): text
            case .blob(let data): data.base64EncodedString()
            }
        }.joined(separator: ",")
    }
}

extension GroupKey {
    /// A hash that is the same in every process (Swift's `Hasher` is seeded per process), for
    /// spreading saved window state over rows. It reads the values in place: a window looks it
    /// up for every slot a batch changes first, so making ``values``' array here would cost an
    /// allocation each time.
    var stableHash: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        func mix(_ number: UInt64) { for shift in stride(from: 0, to: 64, by: 8) { mix(UInt8(truncatingIfNeeded: number >> UInt64(shift))) } }
        func mix(_ value: DatabaseValue) {
            switch value.storage {
            case .null: mix(UInt8(0))
            case .int64(let number): mix(UInt8(1)); mix(UInt64(bitPattern: number))
            case .double(let number): mix(UInt8(2)); mix(number.bitPattern)
            case .string(let text): mix(UInt8(3)); for byte in text.utf8 { mix(byte) }
            case .blob(let data): mix(UInt8(4)); for byte in data { mix(byte) }
            }
        }
        switch self {
        case .single(let value): mix(value)
        case .many(let values): for value in values { mix(value) }
        }
        return hash
    }

    /// A total order on keys (by value, numbers before text before blobs), for emitting rows
    /// in the same order on every run.
    func precedes(_ other: GroupKey) -> Bool {
        let (mine, theirs) = (values, other.values)
        for (a, b) in zip(mine, theirs) where a != b { return Self.precedes(a, b) }
        return mine.count < theirs.count
    }

    private static func precedes(_ a: DatabaseValue, _ b: DatabaseValue) -> Bool {
        func rank(_ value: DatabaseValue) -> Int {
            switch value.storage {
            case .null: 0
            case .int64, .double: 1
            case .string: 2
            case .blob: 3
            }
        }
        switch (a.storage, b.storage) {
        case (.int64(let x), .int64(let y)): return x < y
        case (.double(let x), .double(let y)): return x < y
        case (.int64(let x), .double(let y)): return Double(x) < y
        case (.double(let x), .int64(let y)): return x < Double(y)
        case (.string(let x), .string(let y)): return x < y
        case (.blob(let x), .blob(let y)): return x.lexicographicallyPrecedes(y)
        default: return rank(a) < rank(b)
        }
    }
}
