import Foundation

/// One partition of a topic: a folder of segments, the last of which takes appends.
///
/// A writable partition belongs to the process holding the log's lock; a read-only one may be
/// opened by any number of other processes and follows the files as they grow (``refresh()``).
/// Every method is safe to call from several threads. A lock guards the segment list and each
/// segment's offsets and serialises appends and flushes; reads take it only to choose their
/// segments, then read the files beside appends (a segment's file size and index entries are
/// safe to share on their own). Retention, compaction and repair run one at a time under a
/// lock of their own and take the first only for their changes.
package final class PartitionLog: @unchecked Sendable {
    // @unchecked: all mutable state here and in the segments' offsets is guarded by `lock`.
    package let topic: String
    package let partition: Int
    package let folder: URL
    let configuration: TopicConfiguration
    let writable: Bool
    private let lock = NSLock()
    /// Serialises retention, compaction and repair, which take `lock` only for their changes.
    private let maintenance = NSLock()
    private var list: SegmentList
    /// The last segment's file and base offset when the recovery checkpoint names it and it is gone.
    private var lostLastSegment: (file: URL, baseOffset: Int64)?
    /// A damaged batch the recovery checkpoint covers at the end of the active segment, found at
    /// open: where the partition ends is unknown, so it takes no appends until ``repair()``.
    private var refusedTail: SegmentDamage?
    private var dirty = false
    private var bytesSinceCheckpoint = 0

    private init(topic: String, partition: Int, folder: URL, configuration: TopicConfiguration, writable: Bool, loaded: LogLoader.Loaded) {
        self.topic = topic
        self.partition = partition
        self.folder = folder
        self.configuration = configuration
        self.writable = writable
        list = loaded.segments
        lostLastSegment = loaded.lostLastSegment
        refusedTail = loaded.refusedTail
    }

    // MARK: - Opening

    /// Opens a partition folder (creating it when writable); see ``LogLoader``.
    /// - Parameters:
    ///   - clean: The log closed cleanly last time: only a damaged tail is reported.
    /// - Returns: The partition and what checking its tail found: always after an unclean
    ///   stop, after a clean one only when something was wrong.
    static func open(topic: String, partition: Int, folder: URL, configuration: TopicConfiguration,
                     writable: Bool, clean: Bool) throws -> (PartitionLog, RecoveryReport?) {
        let loaded = try LogLoader(topic: topic, partition: partition, folder: folder, writable: writable, clean: clean).load()
        let log = PartitionLog(topic: topic, partition: partition, folder: folder, configuration: configuration, writable: writable, loaded: loaded)
        return (log, loaded.report)
    }

    // MARK: - Offsets

    /// The first offset still in the log.
    package var startOffset: Int64 { lock.withLock { list.startOffset } }
    /// The offset the next record will get (one past the last).
    package var endOffset: Int64 { lock.withLock { list.endOffset } }
    /// Bytes in all segments.
    package var sizeInBytes: Int { lock.withLock { list.bytes } }

    /// The offsets the segment files hold: the partition's range less its gaps (records
    /// compaction removed still count: their offsets stay in their segments' ranges).
    package var heldOffsetCount: Int64 { lock.withLock { list.segments.reduce(0) { $0 + $1.nextOffset - $1.baseOffset } } }

    /// The ranges of offsets missing between segments (a segment file was deleted or lost),
    /// oldest first; empty for a sound partition.
    package var gaps: [LogGap] { lock.withLock { list.gaps } }

    /// The partition's last segment file, when the recovery checkpoint names it and it is gone
    /// (deleted or lost, with the records from its base offset on). Only a read-only partition
    /// can have one: the writer refuses to open such a partition.
    package var missingLastSegment: (file: URL, baseOffset: Int64)? { lock.withLock { lostLastSegment } }

    /// Each segment's base offset, next offset and size, oldest first.
    package var segmentSummaries: [(baseOffset: Int64, nextOffset: Int64, bytes: Int, maxTimestamp: Int64)] {
        lock.withLock { list.segments.map { ($0.baseOffset, $0.nextOffset, $0.size, $0.maxTimestamp) } }
    }

    // MARK: - Appending

    /// Appends records as one batch, giving them the next offsets.
    /// - Parameters:
    ///   - records: At least one record; their `offset` fields are ignored.
    ///   - now: The time used for rolling by age.
    /// - Returns: The offset of the first record.
    /// - Throws: ``RunnelError`` with code `.invalidArgument` for a record over the topic's
    ///   maximum size (nothing is written), or an I/O error.
    @discardableResult
    package func append(_ records: [LogRecord], now: Date = Date()) throws -> Int64 {
        precondition(writable, "append on a read-only partition")
        precondition(!records.isEmpty, "append of no records")
        return try lock.withLock {
            if let refusedTail { throw refusal(refusedTail) }
            // One pass over the records: each within the topic's limit, and a bound on the
            // batch (each record's varints and attributes take at most 36 bytes, each header's 10).
            var bound = RecordBatch.headerSize
            for record in records {
                let size = record.sizeInBytes
                guard size <= configuration.maxRecordBytes else {
                    throw RunnelError(.invalidArgument, "a record of \(size) bytes is over the limit of \(configuration.maxRecordBytes) bytes of \(topic)",
                                      hint: "Keep records smaller, or raise the topic's maximum record size")
                }
                bound += size + 36 + 10 * record.headers.count
            }
            guard bound <= TopicConfiguration.maxBatchBytes else {
                throw RunnelError(.invalidArgument, "a batch of \(records.count) records and up to \(bound) bytes is over the limit of "
                                  + "\(TopicConfiguration.maxBatchBytes) bytes (1 GiB) for one append to \(topic)",
                                  hint: "Append the records in smaller batches")
            }
            let base = list.active.nextOffset
            let batch = RecordBatch.encode(records, baseOffset: base)
            let header = try batch.withUnsafeBytes { try RecordBatch.header($0, at: 0) }
            try rollIfNeeded(adding: batch.count, offsets: header.lastOffset + 1 - base, now: now)
            try batch.withUnsafeBytes { try list.active.append($0, header: header, now: now) }
            dirty = true
            bytesSinceCheckpoint += batch.count
            return base
        }
    }

    /// Why a partition with a damaged, flushed last batch takes no appends.
    private func refusal(_ damage: SegmentDamage) -> RunnelError {
        RunnelError(.corruptLog, "\(topic)/\(partition) takes no appends: its last batch, already flushed and handed out, is damaged at \(damage), "
                    + "so where the partition ends is unknown and new records could get offsets already handed out",
                    hint: "Run `runnel log verify` to list the damage and `runnel log repair --yes` to cut the partition there; "
                        + "then rebuild the pipelines that read past the cut (`runnel run --rebuild`)")
    }

    /// A damaged batch met while reading, as the error readers get.
    private static func readError(_ damage: SegmentDamage) -> RunnelError {
        RunnelError(.corruptLog, "corrupt batch in \(damage)",
                    hint: "Run `runnel log verify` to list damage, and `runnel log repair` to cut the log there")
    }

    /// Rolls to a new segment when the batch would make the active one too big or it is too
    /// old, or when the batch's offsets would not fit the indexes' 4-byte relative offsets.
    private func rollIfNeeded(adding bytes: Int, offsets: Int64, now: Date) throws {
        let active = list.active
        guard !active.isEmpty else { return }
        let tooBig = active.size + bytes > configuration.segmentBytes
        let tooOld = active.firstAppendTime.map { now.timeIntervalSince($0) * 1000 >= Double(configuration.segmentMs) } ?? false
        let tooManyOffsets = active.nextOffset + offsets - active.baseOffset > Int64(Int32.max)
        guard tooBig || tooOld || tooManyOffsets else { return }
        try active.seal()
        list.append(try LogSegment(folder: folder, baseOffset: active.nextOffset, writable: true))
        try DurableFile.syncFolder(folder)
        dirty = false
        try writeCheckpoint()
    }

    /// Fsyncs what was appended since the last flush.
    package func flush() throws {
        try lock.withLock {
            guard dirty else { return }
            // Only the .log file: indexes are synced when a checkpoint is written, and recovery
            // rebuilds whatever index entries lie past the checkpoint.
            try list.active.log.sync()
            dirty = false
            if bytesSinceCheckpoint >= RecoveryCheckpoint.intervalBytes {
                try writeCheckpoint()
            }
        }
    }

    /// Flushes and records a checkpoint at the very end, so the next open checks only the last batch.
    func close() throws {
        guard writable else { return }
        try flush()
        try lock.withLock { try writeCheckpoint() }
    }

    // MARK: - Recovery checkpoint

    /// Syncs the active segment and records that everything up to its end is on disk.
    private func writeCheckpoint() throws {
        // A refused tail keeps its old checkpoint: the bytes past it were never checked.
        guard refusedTail == nil else { return }
        let active = list.active
        try active.sync()
        dirty = false
        try RecoveryCheckpoint.end(of: active).write(in: folder)
        bytesSinceCheckpoint = 0
    }

    // MARK: - Reading

    /// Records from `offset` on, about `maxBytes` of them (at least one batch when any exists).
    /// - Throws: ``SegmentDamage`` (wrapped in ``RunnelError``) naming file and byte offset when
    ///   a batch fails its checksum.
    package func read(from offset: Int64, maxBytes: Int = 1 << 20) throws -> [LogRecord] {
        var records: [LogRecord] = []
        try eachSegment(from: offset, maxBytes: maxBytes) { segment, start, budget in
            (try segment.read(from: start, maxBytes: budget, into: &records), false)
        }
        return records
    }

    /// Calls `body` with records from `offset` on, in place (see ``LogRecordView``), until it
    /// returns false or about `maxBytes` of batches were read.
    /// - Returns: Where to continue: the offset after the last record handed out, or after the
    ///   last batch read whole (past offsets compaction removed).
    /// - Throws: ``RunnelError`` `.logGap` when `offset` is in a gap or the read reaches one
    ///   (records before the gap are handed out first, and the next read from the offset
    ///   returned throws); `.corruptLog` for a damaged batch.
    @discardableResult
    package func forEachRecord(from offset: Int64, maxBytes: Int = 1 << 20, _ body: (LogRecordView) throws -> Bool) throws -> Int64 {
        var next = offset
        try eachSegment(from: offset, maxBytes: maxBytes) { segment, start, budget in
            let visited = try segment.forEachRecord(from: start, maxBytes: budget) { record in
                let keepGoing = try body(record)
                next = record.offset + 1
                return keepGoing
            }
            if !visited.stopped { next = max(next, visited.end) }
            return (visited.bytes, visited.stopped)
        }
        return next
    }

    /// Visits the segments holding offsets from `offset` on, with the byte budget left, until
    /// the budget is spent, the visitor says it stopped, or the next segment is past a gap.
    private func eachSegment(from offset: Int64, maxBytes: Int, _ visit: (LogSegment, Int64, Int) throws -> (bytes: Int, stopped: Bool)) throws {
        let (chosen, gaps): ([LogSegment], [LogGap]) = lock.withLock {
            (list.holding(from: offset), list.gaps)
        }
        if let gap = gaps.first(where: { $0.contains(offset) }) { throw gap.error }
        var bytes = 0
        for segment in chosen {
            if let gap = gaps.first(where: { $0.endOffset == segment.baseOffset }), offset < gap.firstOffset {
                // Hand out what lies before the gap; the read that starts at it throws.
                if bytes > 0 { return }
                throw gap.error
            }
            do {
                let visited = try visit(segment, max(offset, segment.baseOffset), maxBytes - bytes)
                bytes += visited.bytes
                if visited.stopped { return }
            } catch let damage as SegmentDamage {
                // A reader in another process may catch the writer's last batch half-written:
                // that batch is "not yet", not damage.
                if !writable, segment === chosen.last, try segment.isLastBatch(at: damage.position) { return }
                throw Self.readError(damage)
            }
            if bytes >= maxBytes { return }
        }
    }

    /// The first offset whose record's timestamp is at or after `timestamp`, or nil when none is.
    package func offset(forTimestamp timestamp: Int64) throws -> Int64? {
        let candidates: [LogSegment] = lock.withLock { list.segments.filter { $0.maxTimestamp >= timestamp || $0 === list.segments.last } }
        for segment in candidates where !segment.isEmpty {
            let relative = segment.timeIndex.relativeOffset(before: timestamp)
            let start = segment.offsetIndex.position(before: relative)
            var found: Int64?
            try segment.forEachBatch(from: start, verify: true) { header, batch, _ in
                guard header.maxTimestamp >= timestamp else { return true }
                found = try RecordBatch.records(batch, at: 0, header: header).first { $0.timestamp >= timestamp }?.offset
                return found == nil
            }
            if let found { return found }
        }
        return nil
    }

    /// The records of the last batch in the partition (empty when it has none).
    /// - Throws: ``RunnelError`` `.corruptLog` when that batch is damaged (for a writer, the
    ///   error appends would get: see ``repair()``).
    package func lastBatch() throws -> [LogRecord] {
        let (found, refused) = lock.withLock { (list.segments.last { !$0.isEmpty }, refusedTail) }
        if let refused { throw refusal(refused) }
        guard let segment = found else { return [] }
        var last: [LogRecord] = []
        do {
            try segment.forEachBatch(from: segment.offsetIndex.lastPosition, verify: true) { header, batch, _ in
                last = try RecordBatch.records(batch, at: 0, header: header)
                return true
            }
        } catch let damage as SegmentDamage {
            throw Self.readError(damage)
        }
        return last
    }

    /// Re-reads the folder of a read-only partition: new segments, grown files, and segments
    /// another process deleted.
    package func refresh() throws {
        guard !writable else { return }
        try lock.withLock {
            let names = try DurableFile.names(in: folder, missingIsEmpty: true)
            list.forgetSegments(notIn: Set(names.compactMap(LogSegment.baseOffset(ofFile:))))
            let known = Set(list.segments.map(\.baseOffset))
            let previousLast = list.segments.last?.baseOffset
            let discovered = try names.compactMap(LogSegment.baseOffset(ofFile:)).filter { !known.contains($0) }.map {
                try LogSegment(folder: folder, baseOffset: $0, writable: false)
            }
            list.insert(discovered: discovered)
            // The segment that was last may have grown before the writer rolled: learn its end
            // again, and that of every segment that appeared.
            for (index, segment) in list.segments.enumerated() where !known.contains(segment.baseOffset) || segment.baseOffset == previousLast {
                try segment.log.refreshSize()
                try segment.offsetIndex.load()
                try segment.timeIndex.load()
                try LogLoader.loadEnd(of: index, in: list, writable: false)
            }
            list.noteGaps()
        }
    }

    // MARK: - Verification

    /// Checks every batch of every segment; returns the damage found (empty when sound).
    package func verify() -> [SegmentDamage] {
        let all = lock.withLock { list.segments }
        var damage: [SegmentDamage] = []
        for segment in all {
            do {
                try segment.forEachBatch(from: 0, verify: true) { header, batch, position in
                    do {
                        try RecordBatch.check(batch, at: 0, header: header)
                    } catch let problem as RecordBatch.Problem {
                        throw SegmentDamage(file: segment.log.url, position: position, problem: problem)
                    }
                    return true
                }
            } catch let found as SegmentDamage {
                damage.append(found)
            } catch {
                damage.append(SegmentDamage(file: segment.log.url, position: 0, problem: .badRecords("\(error)")))
            }
        }
        return damage
    }

    /// Cuts the partition at its first damaged batch, deleting later segments.
    /// - Returns: What was cut, or nil when nothing was damaged.
    package func repair() throws -> RecoveryReport? {
        precondition(writable, "repair on a read-only partition")
        return try withMaintenanceLock {
            guard let first = verify().first else { return nil }
            return try lock.withLock {
                guard let index = list.segments.firstIndex(where: { $0.log.url == first.file }) else { return nil }
                let segment = list[index]
                let recovery = try segment.recover(checkedFrom: 0)
                var report = RecoveryReport(topic: topic, partition: partition, cleanStop: true)
                report.scannedBytes = segment.size + recovery.truncatedBytes
                report.truncatedBytes = recovery.truncatedBytes
                report.droppedRecords = recovery.droppedRecords
                report.damage = recovery.problem ?? first
                report.truncatedBytes += try list.deleteSegments(after: index)
                refusedTail = nil
                try writeCheckpoint()
                list.noteGaps()
                return report
            }
        }
    }

    // MARK: - Maintenance access

    /// Runs retention, compaction or repair: one at a time per partition.
    func withMaintenanceLock<T>(_ body: () throws -> T) rethrows -> T {
        try maintenance.withLock(body)
    }

    /// Runs `body` on the segment list under the partition's lock, for short changes (retention
    /// deleting whole segments); records a checkpoint when it removed any.
    func withSegmentList<T>(_ body: (inout SegmentList) throws -> T) throws -> T {
        try lock.withLock {
            let before = list.count
            defer { list.noteGaps() }
            let result = try body(&list)
            if list.count != before { try writeCheckpoint() }
            return result
        }
    }

    /// Every segment, oldest first, as they are now.
    func allSegments() -> [LogSegment] {
        lock.withLock { list.segments }
    }

    /// The closed segments (all but the active one), oldest first, as they are now.
    func closedSegments() -> [LogSegment] {
        lock.withLock { Array(list.closed) }
    }

    /// The segments holding records at or after `offset`, as they are now.
    func segments(holdingFrom offset: Int64) -> [LogSegment] {
        lock.withLock { list.holding(from: offset) }
    }

    /// Puts a rewritten closed segment in place of the one it replaces and records a checkpoint.
    func replaceSegment(_ old: LogSegment, with new: LogSegment) throws {
        try lock.withLock {
            guard let index = list.index(of: old) else {
                preconditionFailure("segment \(old.baseOffset) left the list during maintenance, which is serialised")
            }
            list.replace(at: index, with: new)
            try writeCheckpoint()
        }
    }
}
