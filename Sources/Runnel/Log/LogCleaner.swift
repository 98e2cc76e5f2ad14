#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Compaction of a partition's closed segments, after Kafka's log cleaner: keeps the newest
/// record of each key; tombstones (null values) older than the topic's `deleteRetentionMs` go
/// too; records without a key stay.
///
/// **Bounded memory.** A pass remembers the newest offset of at most ``keysPerPass`` keys (a
/// 128-bit hash of the key and an offset each, never the key itself), read from the records
/// after where the previous pass stopped; a record goes only when the pass knows a newer one of
/// its key. With more keys than that, passes follow each other until the last reaches the end
/// of the log. Segments are rewritten a batch at a time.
///
/// **Appends go on.** A pass reads the partition without its lock (closed segments never
/// change, and reads are safe beside appends) and takes the lock only to put each rewritten
/// segment in place of the old one. Retention, compaction and repair of one partition are
/// serialised by a maintenance lock of their own.
///
/// **Offsets stay.** Every segment keeps its offset range, so compaction never reads as a gap:
/// each batch that keeps a record keeps its base offset and last offset delta (as Kafka's
/// cleaner does), batches left with no record are dropped, except a segment's last one, which
/// stays as a batch of no records to mark where the segment ends.
///
/// **Crashes.** Each rewritten segment is written aside (`.cleaned`), fsynced, its indexes
/// removed, then renamed over the original and its indexes rebuilt: a crash at any point leaves
/// either the original or the cleaned file, and indexes that are missing are rebuilt on open.
struct LogCleaner {
    /// The most keys one pass remembers. About 50 bytes each, so the default bounds a pass to
    /// about 25 MiB whatever the partition holds.
    var keysPerPass = 500_000
    /// Called after each segment is put in place (tests check that appends go on meanwhile).
    var afterSegment: ((Int64) -> Void)?

    /// A key's hash: two 64-bit SipHash values with different seeds, so that two keys of one
    /// partition share it with a chance of about n²/2¹²⁹.
    private struct KeyHash: Hashable {
        var high: UInt64
        var low: UInt64

        init(_ key: UnsafeRawBufferPointer) {
            var first = Hasher(), second = Hasher()
            first.combine(0x5275_6E6E_656C_0001 as UInt64)
            second.combine(0x5275_6E6E_656C_0002 as UInt64)
            first.combine(bytes: key)
            second.combine(bytes: key)
            high = UInt64(bitPattern: Int64(first.finalize()))
            low = UInt64(bitPattern: Int64(second.finalize()))
        }
    }

    /// What one pass knows: the newest offset of each key from `from` up to `to`.
    private struct OffsetMap {
        var newest: [KeyHash: Int64] = [:]
        var from: Int64
        var to: Int64
        /// Whether `to` is the end of the partition as the pass read it.
        var reachedEnd = false
    }

    func clean(_ partition: PartitionLog, now: Date) throws -> PartitionLog.MaintenanceResult {
        precondition(partition.writable, "compaction on a read-only partition")
        return try partition.withMaintenanceLock {
            var result = PartitionLog.MaintenanceResult(bytesBefore: partition.sizeInBytes)
            let tombstoneCutoff = now.millisecondsSince1970 - partition.configuration.deleteRetentionMs
            var from = partition.startOffset
            while true {
                let map = try buildMap(partition, from: from)
                result.passes += 1
                for segment in partition.closedSegments() {
                    guard let replacement = try rewrite(segment, in: partition, using: map, tombstoneCutoff: tombstoneCutoff, result: &result) else { continue }
                    try partition.replaceSegment(segment, with: replacement)
                    afterSegment?(segment.baseOffset)
                }
                if map.reachedEnd || map.to <= from { break }
                from = map.to
            }
            result.bytesAfter = partition.sizeInBytes
            return result
        }
    }

    /// Reads keys from `from` on, every segment included (the active one too, as far as it is
    /// written now), until ``keysPerPass`` keys are known.
    private func buildMap(_ partition: PartitionLog, from: Int64) throws -> OffsetMap {
        var map = OffsetMap(from: from, to: from)
        let segments = partition.segments(holdingFrom: from)
        do {
            for segment in segments {
                try segment.forEachBatch(from: 0, verify: true) { header, batch, _ in
                    guard header.lastOffset >= from else { return true }
                    let completed = try RecordBatch.forEachRecord(batch, at: 0, header: header) { record in
                        guard record.offset >= from else { return true }
                        if let key = record.key {
                            let hash = KeyHash(key)
                            if map.newest[hash] == nil, map.newest.count >= keysPerPass { return false }
                            map.newest[hash] = record.offset
                        }
                        map.to = record.offset + 1
                        return true
                    }
                    if completed { map.to = max(map.to, header.lastOffset + 1) }
                    return completed
                }
                if map.newest.count >= keysPerPass, map.to < segment.nextOffset { return map }
            }
        } catch let problem as RecordBatch.Problem {
            throw RunnelError(.corruptLog, "compaction of \(partition.topic)/\(partition.partition) met a batch whose records do not parse: \(problem)",
                              hint: "Run `runnel log verify`, then `runnel log repair`")
        }
        map.reachedEnd = true
        return map
    }

    /// Whether the pass drops `record`: a newer record of its key is known, or it is a
    /// tombstone past its retention that is known to be its key's newest.
    private func drops(_ record: LogRecordView, _ map: OffsetMap, tombstoneCutoff: Int64) -> Bool {
        guard let key = record.key else { return false }
        guard let newest = map.newest[KeyHash(key)] else { return false }
        if newest > record.offset { return true }
        return newest == record.offset && record.value == nil && record.timestamp < tombstoneCutoff && map.reachedEnd
    }

    /// Writes a segment again without the records the pass drops, batch for batch; nil when it
    /// drops none. Reads the segment twice (count, then write), holding one batch at a time.
    private func rewrite(_ segment: LogSegment, in partition: PartitionLog, using map: OffsetMap, tombstoneCutoff: Int64,
                         result: inout PartitionLog.MaintenanceResult) throws -> LogSegment? {
        var dropped = 0
        try segment.forEachBatch(from: 0, verify: true) { header, batch, _ in
            _ = try RecordBatch.forEachRecord(batch, at: 0, header: header) { record in
                if drops(record, map, tombstoneCutoff: tombstoneCutoff) { dropped += 1 }
                return true
            }
            return true
        }
        guard dropped > 0 else { return nil }
        let folder = partition.folder
        let cleaned = segment.log.url.appendingPathExtension("cleaned")
        let file = try DurableFile(cleaned, create: true)
        try file.truncate(to: 0)
        var lastBatch: RecordBatchHeader?
        var wroteLast = false
        try segment.forEachBatch(from: 0, verify: true) { header, batch, position in
            var kept: [LogRecord] = []
            _ = try RecordBatch.forEachRecord(batch, at: 0, header: header) { record in
                if !drops(record, map, tombstoneCutoff: tombstoneCutoff) { kept.append(try record.ownedRecord()) }
                return true
            }
            lastBatch = header
            wroteLast = !kept.isEmpty
            guard !kept.isEmpty else { return true }
            let bytes = RecordBatch.encode(kept, baseOffset: header.baseOffset, keepingOffsets: true, lastOffsetDelta: header.lastOffsetDelta)
            try bytes.withUnsafeBytes { try file.append($0) }
            return true
        }
        // The segment's last batch always stays, empty if need be, to mark where it ends.
        if let lastBatch, !wroteLast {
            let bytes = RecordBatch.encodeEmpty(baseOffset: lastBatch.baseOffset, lastOffsetDelta: lastBatch.lastOffsetDelta, maxTimestamp: lastBatch.maxTimestamp)
            try bytes.withUnsafeBytes { try file.append($0) }
        }
        try file.sync()
        try DurableFile.remove(segment.offsetIndex.url)
        try DurableFile.remove(segment.timeIndex.url)
        try DurableFile.syncFolder(folder)
        guard rename(cleaned.path, segment.log.url.path) == 0 else { throw DurableFile.error("rename", cleaned) }
        try DurableFile.syncFolder(folder)
        let replacement = try LogSegment(folder: folder, baseOffset: segment.baseOffset, writable: true)
        _ = try replacement.recover(checkedFrom: 0)
        try replacement.seal()
        result.recordsRemoved += dropped
        result.segmentsRewritten += 1
        return replacement
    }
}
