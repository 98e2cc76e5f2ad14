import Foundation
import Runnel

/// One round of `log-append-*`: the batches to append, and the very bytes Runnel will write for
/// each, which the baseline writes itself.
struct AppendRound: Sendable {
    /// The records of each batch, as ``PartitionLog/append(_:now:)`` takes them.
    var batches: [[LogRecord]]
    /// Each batch encoded by ``RecordBatch/encode(_:baseOffset:keepingOffsets:lastOffsetDelta:)`` at the offset the partition will
    /// give it: byte for byte what lands in the segment file.
    var encoded: [[UInt8]]
    /// The offset the partition must give each batch's first record.
    var baseOffsets: [Int64]

    /// Bytes of all the round's batches.
    var bytes: Int { encoded.reduce(0) { $0 + $1.count } }
}

extension LogAppendScenario {
    /// 2025-06-15T16:53:20Z: records are stamped from here on, 1 ms apart.
    private static let startMs: Int64 = 1_750_006_400_000

    /// The batches of one round; the same round gives the same records. Offsets follow on from
    /// the previous round's, as they do in the partition (which starts empty).
    func round(_ round: Int, size: Size) -> AppendRound {
        var random = SeededGenerator(seed: 0xA99E_0000 &+ UInt64(round))
        var batches: [[LogRecord]] = []
        var encoded: [[UInt8]] = []
        var baseOffsets: [Int64] = []
        for batch in 0..<size.batchesPerRound {
            let base = Int64((round * size.batchesPerRound + batch) * size.recordsPerBatch)
            let records = (0..<size.recordsPerBatch).map { index in
                let offset = base + Int64(index)
                return LogRecord(timestamp: Self.startMs + offset, key: Self.key(offset), value: Self.value(valueBytes, &random))
            }
            batches.append(records)
            encoded.append(RecordBatch.encode(records, baseOffset: base))
            baseOffsets.append(base)
        }
        return AppendRound(batches: batches, encoded: encoded, baseOffsets: baseOffsets)
    }

    /// A 10-byte key such as `key-000042`, like a member id.
    private static func key(_ offset: Int64) -> [UInt8] {
        let digits = String(offset % 1_000_000)
        return Array(("key-" + String(repeating: "0", count: 6 - digits.count) + digits).utf8)
    }

    /// `count` seeded random bytes: each record gets its own, so nothing is shared between them.
    private static func value(_ count: Int, _ random: inout SeededGenerator) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var index = 0
            while index < count {
                var word = random.next()
                for _ in 0..<min(8, count - index) {
                    buffer[index] = UInt8(truncatingIfNeeded: word)
                    word >>= 8
                    index += 1
                }
            }
            initialized = count
        }
    }
}
