#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

extension PartitionLog {
    /// What a retention or compaction pass changed.
    public struct MaintenanceResult: Sendable, Hashable {
        public var segmentsRemoved = 0
        public var segmentsRewritten = 0
        public var bytesBefore = 0
        public var bytesAfter = 0
        public var recordsRemoved = 0
    }

    // MARK: - Retention

    /// The closed segments retention would delete now: oldest first, whole segments, never the
    /// active one.
    public func expiredSegments(now: Date = Date()) -> [Int64] {
        withSegments { segments in expired(in: segments, now: now).map(\.baseOffset) }
    }

    private func expired(in segments: [LogSegment], now: Date) -> [LogSegment] {
        let closed = segments.dropLast()
        var total = segments.reduce(0) { $0 + $1.size }
        let cutoff = configuration.retentionMs.map { now.millisecondsSince1970 - $0 }
        var chosen: [LogSegment] = []
        for segment in closed {
            let tooOld = cutoff.map { segment.maxTimestamp >= 0 && segment.maxTimestamp < $0 } ?? false
            let tooBig = configuration.retentionBytes.map { Int64(total) > $0 } ?? false
            guard tooOld || tooBig else { break }
            chosen.append(segment)
            total -= segment.size
        }
        return chosen
    }

    /// Deletes the segments retention allows to go.
    @discardableResult
    public func applyRetention(now: Date = Date()) throws -> MaintenanceResult {
        precondition(writable, "retention on a read-only partition")
        let result = try withSegments { segments -> MaintenanceResult in
            var result = MaintenanceResult(bytesBefore: segments.reduce(0) { $0 + $1.size })
            // Oldest first, each leaving the list once its files are gone: a delete that fails
            // throws with the segments from it on still in place.
            for segment in expired(in: segments, now: now) {
                try segment.delete()
                segments.removeFirst()
                result.recordsRemoved += Int(segment.nextOffset - segment.baseOffset)
                result.segmentsRemoved += 1
            }
            result.bytesAfter = segments.reduce(0) { $0 + $1.size }
            if result.segmentsRemoved > 0 { try DurableFile.syncFolder(folder) }
            return result
        }
        if result.segmentsRemoved > 0 { try checkpointAfterMaintenance() }
        return result
    }

    // MARK: - Compaction

    /// Keeps only the newest record of each key in the closed segments; tombstones (null
    /// values) older than the topic's `deleteRetentionMs` go too. Records without a key stay.
    ///
    /// Every segment keeps its offset range, so compaction never reads as a gap: each batch
    /// that keeps a record keeps its base offset and last offset delta (as Kafka's cleaner
    /// does), batches left with no record are dropped, except a segment's last one, which stays
    /// as a batch of no records to mark where the segment ends. A segment compacted to nothing
    /// is that one empty batch.
    ///
    /// Each rewritten segment is written aside (`.cleaned`), fsynced, its indexes removed, then
    /// renamed over the original and its indexes rebuilt: a crash at any point leaves either the
    /// original or the cleaned file, and indexes that are missing are rebuilt on open.
    @discardableResult
    public func compact(now: Date = Date()) throws -> MaintenanceResult {
        precondition(writable, "compaction on a read-only partition")
        return try withSegments { segments -> MaintenanceResult in
            var result = MaintenanceResult(bytesBefore: segments.reduce(0) { $0 + $1.size })
            // The newest offset of every key, over the whole partition (active segment included).
            var latest: [[UInt8]: Int64] = [:]
            for segment in segments where !segment.isEmpty {
                try segment.forEachBatch(from: 0, verify: true) { header, batch, _ in
                    for record in try RecordBatch.records(batch, at: 0, header: header) {
                        if let key = record.key { latest[key] = record.offset }
                    }
                    return true
                }
            }
            let tombstoneCutoff = now.millisecondsSince1970 - configuration.deleteRetentionMs
            for index in segments.indices.dropLast() {
                let segment = segments[index]
                var batches: [(header: RecordBatchHeader, kept: [LogRecord])] = []
                var removed = 0
                try segment.forEachBatch(from: 0, verify: true) { header, batch, _ in
                    var kept: [LogRecord] = []
                    for record in try RecordBatch.records(batch, at: 0, header: header) {
                        if let key = record.key {
                            guard latest[key] == record.offset, record.value != nil || record.timestamp >= tombstoneCutoff else {
                                removed += 1
                                continue
                            }
                        }
                        kept.append(record)
                    }
                    batches.append((header, kept))
                    return true
                }
                guard removed > 0 else { continue }
                result.recordsRemoved += removed
                segments[index] = try rewrite(segment, keeping: batches)
                result.segmentsRewritten += 1
            }
            result.bytesAfter = segments.reduce(0) { $0 + $1.size }
            return result
        }
    }

    /// Writes a segment again with the records each of its batches keeps, batch for batch.
    private func rewrite(_ segment: LogSegment, keeping batches: [(header: RecordBatchHeader, kept: [LogRecord])]) throws -> LogSegment {
        let cleaned = segment.log.url.appendingPathExtension("cleaned")
        let file = try DurableFile(cleaned, create: true)
        try file.truncate(to: 0)
        var writer = ByteWriter(capacity: 1 << 16)
        for (index, (header, kept)) in batches.enumerated() {
            writer.removeAll()
            if !kept.isEmpty {
                RecordBatch.encode(kept, baseOffset: header.baseOffset, keepingOffsets: true, lastOffsetDelta: header.lastOffsetDelta, into: &writer)
            } else if index == batches.count - 1 {
                RecordBatch.encodeEmpty(baseOffset: header.baseOffset, lastOffsetDelta: header.lastOffsetDelta, maxTimestamp: header.maxTimestamp, into: &writer)
            } else {
                continue
            }
            try writer.bytes.withUnsafeBytes { try file.append($0) }
        }
        try file.sync()
        try FileManager.default.removeItem(at: segment.offsetIndex.url)
        try FileManager.default.removeItem(at: segment.timeIndex.url)
        try DurableFile.syncFolder(folder)
        guard rename(cleaned.path, segment.log.url.path) == 0 else { throw DurableFile.error("rename", cleaned) }
        try DurableFile.syncFolder(folder)
        let replacement = try LogSegment(folder: folder, baseOffset: segment.baseOffset, writable: true)
        _ = try replacement.recover(checkedFrom: 0)
        try replacement.seal()
        return replacement
    }
}
