#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

extension PartitionLog {
    /// What a retention or compaction pass changed.
    package struct MaintenanceResult: Sendable, Hashable {
        package var segmentsRemoved = 0
        package var segmentsRewritten = 0
        package var bytesBefore = 0
        package var bytesAfter = 0
        package var recordsRemoved = 0
        /// Compaction passes made (more than one when the keys did not fit one pass's memory).
        package var passes = 0
    }

    // MARK: - Retention

    /// The closed segments retention would delete now: oldest first, whole segments, never the
    /// active one.
    package func expiredSegments(now: Date = Date()) -> [Int64] {
        expired(in: allSegments(), now: now).map(\.baseOffset)
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
    /// - Throws: ``RunnelError`` `.io` when a segment's files cannot be deleted; that segment
    ///   and the ones after it stay.
    @discardableResult
    package func applyRetention(now: Date = Date()) throws -> MaintenanceResult {
        precondition(writable, "retention on a read-only partition")
        return try withMaintenanceLock {
            try withSegmentList { list -> MaintenanceResult in
                var result = MaintenanceResult(bytesBefore: list.bytes)
                // Oldest first, each leaving the list once its files are gone: a delete that
                // fails throws with the segments from it on still in place.
                for segment in expired(in: list.segments, now: now) {
                    try list.deleteOldest()
                    result.recordsRemoved += Int(segment.nextOffset - segment.baseOffset)
                    result.segmentsRemoved += 1
                }
                result.bytesAfter = list.bytes
                if result.segmentsRemoved > 0 { try DurableFile.syncFolder(folder) }
                return result
            }
        }
    }

    // MARK: - Compaction

    /// Keeps only the newest record of each key in the closed segments, in passes of bounded
    /// memory, while appends go on (see ``LogCleaner``); tombstones (null values) older than
    /// the topic's `deleteRetentionMs` go too. Records without a key stay.
    @discardableResult
    package func compact(now: Date = Date()) throws -> MaintenanceResult {
        try LogCleaner().clean(self, now: now)
    }
}
