import Foundation

/// One segment of a partition: `<base offset>.log` (RecordBatch v2 batches back to back) with
/// its `.index` and `.timeindex`, all named by the 20-digit zero-padded base offset as Kafka
/// names them.
final class LogSegment: @unchecked Sendable {
    // @unchecked: the variables below (next offset, timestamps, index bookkeeping) are read and
    // written only under the owning PartitionLog's lock. The `.log` file and the indexes are
    // safe to share on their own, so reads run outside that lock, beside appends.
    let baseOffset: Int64
    let log: DurableFile
    let offsetIndex: OffsetIndex
    let timeIndex: TimeIndex
    /// One past the last offset written.
    private(set) var nextOffset: Int64
    /// The largest record timestamp seen, or -1.
    private(set) var maxTimestamp: Int64 = -1
    private var offsetOfMaxTimestamp: Int64 = -1
    private var bytesSinceIndexEntry = 0
    let indexIntervalBytes: Int
    /// When the segment got its first batch (for rolling by age).
    private(set) var firstAppendTime: Date?

    static func name(_ baseOffset: Int64, _ suffix: String) -> String {
        let digits = String(baseOffset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + "." + suffix
    }

    /// The base offset named by a segment file name, if it is one.
    static func baseOffset(ofFile name: String) -> Int64? {
        guard name.hasSuffix(".log"), name.count == 24 else { return nil }
        return Int64(name.prefix(20))
    }

    /// An index file was missing at open: the indexes must be rebuilt from the `.log` file
    /// (on disk by a writer, in memory by a reader, see ``rebuildIndexesInMemory()``).
    let indexesMissing: Bool

    init(folder: URL, baseOffset: Int64, writable: Bool, indexIntervalBytes: Int = 4096) throws {
        self.baseOffset = baseOffset
        self.indexIntervalBytes = indexIntervalBytes
        let logURL = folder.appendingPathComponent(Self.name(baseOffset, "log"))
        let offsetURL = folder.appendingPathComponent(Self.name(baseOffset, "index"))
        let timeURL = folder.appendingPathComponent(Self.name(baseOffset, "timeindex"))
        let files = FileManager.default
        // A segment being created gets its indexes below; one that exists must have them.
        indexesMissing = files.fileExists(atPath: logURL.path) && !(files.fileExists(atPath: offsetURL.path) && files.fileExists(atPath: timeURL.path))
        log = try DurableFile(logURL, create: writable, writable: writable)
        if indexesMissing, !writable {
            // A reader may not write: it keeps both indexes in memory and rebuilds them.
            offsetIndex = OffsetIndex(inMemory: offsetURL)
            timeIndex = TimeIndex(inMemory: timeURL)
        } else {
            offsetIndex = try OffsetIndex(offsetURL, writable: writable)
            timeIndex = try TimeIndex(timeURL, writable: writable)
        }
        nextOffset = baseOffset
        if let last = timeIndex.last {
            maxTimestamp = last.timestamp
            offsetOfMaxTimestamp = baseOffset + Int64(last.relativeOffset)
        }
    }

    var size: Int { log.size }
    var isEmpty: Bool { log.size == 0 }

    // MARK: - Writing

    /// Appends one encoded batch whose offsets start at ``nextOffset``.
    func append(_ batch: UnsafeRawBufferPointer, header: RecordBatchHeader, now: Date) throws {
        let position = log.size
        try log.append(batch)
        if firstAppendTime == nil { firstAppendTime = now }
        index(header, at: position)
        if bytesSinceIndexEntry > indexIntervalBytes {
            try flushIndexEntry(header, at: position)
        }
        bytesSinceIndexEntry += header.size
        nextOffset = header.lastOffset + 1
    }

    /// Tracks the timestamp and offset of a batch just written or scanned.
    private func index(_ header: RecordBatchHeader, at position: Int) {
        if header.maxTimestamp > maxTimestamp {
            maxTimestamp = header.maxTimestamp
            offsetOfMaxTimestamp = header.lastOffset
        }
    }

    private func flushIndexEntry(_ header: RecordBatchHeader, at position: Int) throws {
        try offsetIndex.append(relativeOffset: try relative(header.lastOffset), position: try indexPosition(position))
        try timeIndex.append(timestamp: maxTimestamp, relativeOffset: try relative(offsetOfMaxTimestamp))
        bytesSinceIndexEntry = 0
    }

    /// An offset of this segment as the indexes store it: 4 bytes, relative to the base offset.
    /// (The partition rolls before a batch's offsets would not fit, so only a damaged or
    /// foreign batch can fail this.)
    private func relative(_ offset: Int64) throws -> Int32 {
        guard let value = Int32(exactly: offset - baseOffset), value >= 0 else {
            throw RunnelError(.corruptLog, "offset \(offset) in \(log.url.path) is not within 2^31 past the segment's base offset \(baseOffset)",
                              hint: "Run `runnel log verify`; a segment holds at most 2^31 offsets")
        }
        return value
    }

    /// A byte position in the `.log` file as the offset index stores it: 4 bytes.
    /// (Segments are at most 1 GiB plus one batch, so only a file grown by someone else can fail this.)
    private func indexPosition(_ position: Int) throws -> Int32 {
        guard let value = Int32(exactly: position) else {
            throw RunnelError(.corruptLog, "\(log.url.path) is \(log.size) bytes, past the 2 GiB a segment's index can address",
                              hint: "Segments are at most 1 GiB; this file was not written by Runnel's log")
        }
        return value
    }

    /// Sets the next offset of a closed segment whose end cannot be read (its last batch is
    /// damaged, which verification reports): the next segment's base offset.
    func setNextOffset(_ offset: Int64) {
        nextOffset = offset
    }

    /// Closes the segment for appends: a last time-index entry for its largest timestamp (as
    /// Kafka writes when a segment stops being active), then an fsync of all three files.
    func seal() throws {
        if maxTimestamp >= 0 {
            try timeIndex.append(timestamp: maxTimestamp, relativeOffset: try relative(offsetOfMaxTimestamp))
        }
        try sync()
    }

    /// Fsyncs the log and both indexes.
    func sync() throws {
        try log.sync()
        try offsetIndex.file?.sync()
        try timeIndex.file?.sync()
    }

    // MARK: - Reading

    /// Calls `body` with each whole batch from `position` on, stopping when it returns false or
    /// at the end of the file. A batch is checked against its CRC when `verify` is set.
    ///
    /// Batches that end before `firstWanted` are stepped over having read only their header:
    /// the offset index finds the batch holding the offset *before* the one asked for, so a
    /// consumer resuming at the start of a batch would otherwise read the previous one whole
    /// again (a relay cycle's batch is over a megabyte).
    /// - Throws: ``SegmentDamage`` naming the byte offset of the first batch that does not parse;
    ///   or what `body` throws.
    func forEachBatch(
        from position: Int, upTo limit: Int? = nil, firstWanted: Int64 = .min, verify: Bool,
        _ body: (RecordBatchHeader, UnsafeRawBufferPointer, Int) throws -> Bool
    ) throws {
        let end = min(log.size, limit ?? .max)
        guard position < end else { return }
        let chunk = ReadChunk.take()
        defer { chunk.giveBack() }
        var cursor = position
        // Offsets only grow along a segment: once a batch reaches `firstWanted`, every later
        // one does, and only the batches before it are looked at header first.
        var skipping = firstWanted > .min
        while cursor < end {
            // Keep the chunk holding at least the header of the batch at `cursor`, then the
            // whole batch: one that runs past the chunk's end has its rest read onto it, so a
            // batch longer than a chunk (a full relay cycle of 5,000 events is over a megabyte)
            // is read once, not once in part and again whole.
            if cursor + RecordBatch.headerSize > chunk.end {
                try chunk.refill(from: log, at: cursor, count: min(Self.chunkSize, end - cursor))
            }
            // A header that does not parse here is reported by the whole-batch path below.
            if skipping, let header = try? RecordBatch.header(chunk.bytes, at: cursor - chunk.start, inFile: end - cursor) {
                guard header.lastOffset >= firstWanted else {
                    cursor += header.size
                    continue
                }
                skipping = false
            }
            try chunk.extend(from: log, toCover: cursor, end: end)
            let header: RecordBatchHeader
            do {
                header = try RecordBatch.header(chunk.bytes, at: cursor - chunk.start)
            } catch {
                throw SegmentDamage(file: log.url, position: cursor, problem: error)
            }
            let offset = cursor - chunk.start
            if verify {
                do {
                    try RecordBatch.verify(chunk.bytes, at: offset, header: header)
                } catch {
                    throw SegmentDamage(file: log.url, position: cursor, problem: error)
                }
            }
            let keepGoing = try body(header, UnsafeRawBufferPointer(rebasing: chunk.bytes[offset..<(offset + header.size)]), cursor)
            cursor += header.size
            if !keepGoing { return }
        }
    }

    /// Bytes read at a time when walking batches.
    private static let chunkSize = 1 << 20

    /// The bytes of a segment that ``forEachBatch(from:upTo:firstWanted:verify:_:)`` has read: one buffer,
    /// reused from read to read and grown only for a batch longer than it.
    ///
    /// Walks take their chunk from a few kept between them, so that a consumer reading a
    /// partition a megabyte at a time does not allocate, fault in and grow a fresh buffer
    /// (copying the part already read) on every call.
    private final class ReadChunk: @unchecked Sendable {
        // @unchecked: a chunk belongs to one walk at a time; `spares` hands it over under a lock.
        private var buffer: UnsafeMutableRawBufferPointer

        private static let spares = Locked<[ReadChunk]>([])
        /// How many chunks are kept, and the largest kept: more are freed when their walk ends.
        private static let sparesKept = 4
        private static let largestKept = 16 << 20

        /// A kept chunk, or a new one of ``LogSegment/chunkSize``.
        static func take() -> ReadChunk {
            spares.withLock { $0.popLast() } ?? ReadChunk(capacity: LogSegment.chunkSize)
        }

        /// Keeps the chunk for another walk, unless enough are kept or it grew too large.
        func giveBack() {
            count = 0
            start = 0
            guard buffer.count <= Self.largestKept else { return }
            Self.spares.withLock { spares in
                if spares.count < Self.sparesKept { spares.append(self) }
            }
        }
        /// The file position of the first byte held.
        private(set) var start = 0
        /// The bytes held.
        private(set) var count = 0

        init(capacity: Int) {
            buffer = .allocate(byteCount: capacity, alignment: 16)
        }

        /// The file position just past the last byte held.
        var end: Int { start + count }

        /// The bytes held, valid until the next refill or extension.
        var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[0..<count]) }

        /// Replaces what is held with up to `count` bytes from `position` (fewer at the end of the file).
        func refill(from file: DurableFile, at position: Int, count wanted: Int) throws {
            count = 0  // what is held is replaced: nothing to carry into a larger buffer
            reserve(wanted)
            start = position
            count = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]), at: position)
        }

        /// When the batch starting at `cursor` (held at least up to its length field) runs past
        /// what is held, reads the rest of it, up to `end`. A damaged length reads no further
        /// than `end` or the file allows; the header check that follows reports it.
        func extend(from file: DurableFile, toCover cursor: Int, end: Int) throws {
            let offset = cursor - start
            guard offset + RecordBatch.logOverhead <= count else { return }
            let length = Int32(bitPattern: buffer.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self).bigEndian)
            let batchEnd = min(cursor + Int(max(length, 0)) + RecordBatch.logOverhead, end)
            guard batchEnd > self.end else { return }
            reserve(batchEnd - start)
            count += try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[count..<(batchEnd - start)]), at: self.end)
        }

        /// Makes room for `capacity` bytes, keeping what is held.
        private func reserve(_ capacity: Int) {
            guard capacity > buffer.count else { return }
            let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: max(capacity, buffer.count * 2), alignment: 16)
            larger.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            buffer.deallocate()
            buffer = larger
        }

        deinit {
            buffer.deallocate()
        }
    }

    /// Whether the batch at `position` is the last one in the file (or runs past its end).
    func isLastBatch(at position: Int) throws -> Bool {
        try log.refreshSize()
        return position + (try wholeBatchSize(at: position)) >= log.size
    }

    private func wholeBatchSize(at position: Int) throws -> Int {
        let prefix = try log.read(at: position, count: RecordBatch.logOverhead)
        guard prefix.count == RecordBatch.logOverhead else { return RecordBatch.logOverhead }
        let length = prefix.withUnsafeBytes { Int32(bitPattern: $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self).bigEndian) }
        return Int(max(length, 0)) + RecordBatch.logOverhead
    }

    /// Records at or after `offset`, up to about `maxBytes` of batches (at least one batch).
    func read(from offset: Int64, maxBytes: Int, into records: inout [LogRecord]) throws -> Int {
        var bytes = 0
        let start = offsetIndex.position(before: Int32(clamping: offset - baseOffset))
        // Batches before the target are only stepped over; the ones returned are checked.
        try forEachBatch(from: start, firstWanted: offset, verify: false) { header, batch, position in
            guard header.lastOffset >= offset else { return true }
            do {
                try RecordBatch.verify(batch, at: 0, header: header)
                for record in try RecordBatch.records(batch, at: 0, header: header) where record.offset >= offset {
                    records.append(record)
                }
            } catch let problem as RecordBatch.Problem {
                throw SegmentDamage(file: log.url, position: position, problem: problem)
            }
            bytes += header.size
            return bytes < maxBytes
        }
        return bytes
    }

    /// Like ``read(from:maxBytes:into:)``, handing out records in place.
    /// - Returns: The bytes of batches read, whether `body` stopped, and the offset after the
    ///   last batch read whole (past the offsets compaction removed from it), or `offset`.
    func forEachRecord(from offset: Int64, maxBytes: Int, _ body: (LogRecordView) throws -> Bool) throws -> (bytes: Int, stopped: Bool, end: Int64) {
        var bytes = 0
        var stopped = false
        var end = offset
        let start = offsetIndex.position(before: Int32(clamping: offset - baseOffset))
        try forEachBatch(from: start, firstWanted: offset, verify: false) { header, batch, position in
            guard header.lastOffset >= offset else { return true }
            do {
                try RecordBatch.verify(batch, at: 0, header: header)
                let completed = try RecordBatch.forEachRecord(batch, at: 0, header: header) { record in
                    record.offset < offset ? true : try body(record)
                }
                if !completed { stopped = true } else { end = header.lastOffset + 1 }
            } catch let problem as RecordBatch.Problem {
                throw SegmentDamage(file: log.url, position: position, problem: problem)
            }
            bytes += header.size
            return !stopped && bytes < maxBytes
        }
        return (bytes, stopped, end)
    }

    // MARK: - Opening and recovery

    /// Reads the end of a segment that closed cleanly (from the last index entry on) to learn its
    /// next offset and largest timestamp.
    func loadTail() throws {
        try forEachBatchHeader(from: offsetIndex.lastPosition) { header, position in
            index(header, at: position)
            nextOffset = header.lastOffset + 1
        }
        if log.size > 0 { bytesSinceIndexEntry = log.size - offsetIndex.lastPosition }
    }

    /// Walks the batches from `position` to the end of the file as
    /// ``forEachBatch(from:upTo:firstWanted:verify:_:)`` does without verifying, reading only what it needs:
    /// a short span in one read, a long one a header at a time. Opening a log learns where each
    /// closed segment ends from its last batch, and a relay cycle's batch is over a megabyte of
    /// which only the header is needed.
    /// - Throws: ``SegmentDamage`` at a header that does not parse or a batch running past the
    ///   end of the file.
    func forEachBatchHeader(from position: Int, _ body: (RecordBatchHeader, Int) throws -> Void) throws {
        let end = log.size
        guard end - position > Self.headerWalkSpan else {
            return try forEachBatch(from: position, verify: false) { header, _, at in
                try body(header, at)
                return true
            }
        }
        try withUnsafeTemporaryAllocation(byteCount: RecordBatch.headerSize, alignment: 8) { buffer in
            var cursor = position
            while cursor < end {
                let held = try log.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, end - cursor)]), at: cursor)
                let header: RecordBatchHeader
                do throws(RecordBatch.Problem) {
                    header = try RecordBatch.header(UnsafeRawBufferPointer(rebasing: buffer[0..<held]), at: 0, inFile: end - cursor)
                } catch {
                    throw SegmentDamage(file: log.url, position: cursor, problem: error)
                }
                try body(header, cursor)
                cursor += header.size
            }
        }
    }

    /// The longest span ``forEachBatchHeader(from:_:)`` reads whole.
    private static let headerWalkSpan = 64 << 10

    /// Builds the in-memory indexes of a read-only segment whose index files are missing, from
    /// their last entry to the end of the file (the whole segment the first time), learning its
    /// end and largest timestamp on the way.
    /// - Throws: ``SegmentDamage`` at a batch that does not parse; the indexes then cover the
    ///   batches before it.
    func rebuildIndexesInMemory() throws {
        precondition(offsetIndex.file == nil, "in-memory rebuild of an index on disk")
        bytesSinceIndexEntry = 0
        try forEachBatch(from: offsetIndex.lastPosition, verify: false) { header, _, at in
            index(header, at: at)
            if bytesSinceIndexEntry > indexIntervalBytes { try flushIndexEntry(header, at: at) }
            bytesSinceIndexEntry += header.size
            nextOffset = header.lastOffset + 1
            return true
        }
    }

    /// What recovering a segment found.
    struct Recovery {
        /// Bytes cut from the end.
        var truncatedBytes = 0
        /// Records in whole batch headers found in the cut bytes (an estimate when they are damaged).
        var droppedRecords = 0
        /// Why the cut was made.
        var problem: SegmentDamage?
    }

    /// Checks the batches from the last index entry below `checked` on, rebuilding the index
    /// entries for them, and cuts the file at the first batch at or past `checked` that is torn
    /// or damaged.
    ///
    /// The bytes below `checked` are the ones a recovery checkpoint covers: their records were
    /// handed out, so a damaged batch there is never cut; it is thrown, and the segment's end is
    /// then where the batches before it end.
    /// - Throws: ``SegmentDamage`` for a bad batch below `checked` (nothing is cut), or an I/O error.
    func recover(checkedFrom checked: Int) throws -> Recovery {
        let originalSize = log.size
        // Index entries past the checked bytes may describe batches that are gone; the last one
        // below them is where the scan starts. Time-index entries past that batch go too.
        try offsetIndex.truncate(toPosition: checked)
        let start = offsetIndex.lastPosition
        let trustedRelativeOffset = offsetIndex.last?.relativeOffset ?? -1
        try timeIndex.truncate { $0.relativeOffset > trustedRelativeOffset }
        nextOffset = baseOffset
        maxTimestamp = -1
        offsetOfMaxTimestamp = -1
        if let last = timeIndex.last {
            maxTimestamp = last.timestamp
            offsetOfMaxTimestamp = baseOffset + Int64(last.relativeOffset)
        }
        var valid = start
        var damage: SegmentDamage?
        bytesSinceIndexEntry = 0
        do {
            try forEachBatch(from: start, verify: true) { header, batch, at in
                do {
                    try RecordBatch.check(batch, at: 0, header: header)
                } catch let problem as RecordBatch.Problem {
                    throw SegmentDamage(file: log.url, position: at, problem: problem)
                }
                index(header, at: at)
                if bytesSinceIndexEntry > indexIntervalBytes { try flushIndexEntry(header, at: at) }
                bytesSinceIndexEntry += header.size
                nextOffset = header.lastOffset + 1
                valid = at + header.size
                return true
            }
        } catch let found as SegmentDamage {
            damage = found
        }
        if let damage, damage.position < checked { throw damage }
        var recovery = Recovery()
        if valid < log.size {
            recovery.truncatedBytes = log.size - valid
            recovery.droppedRecords = try countRecordsBestEffort(from: valid)
            recovery.problem = damage
            try log.truncate(to: valid)
        }
        // What was checked becomes the new checkpoint: make sure what changed is on disk.
        if originalSize > checked || indexesMissing { try sync() }
        return recovery
    }

    /// Walks batch headers from a position without trusting them, counting records, for reports.
    private func countRecordsBestEffort(from position: Int) throws -> Int {
        let tail = try log.read(at: position, count: log.size - position)
        return tail.withUnsafeBytes { raw in
            var cursor = 0, records = 0
            while let header = try? RecordBatch.header(raw, at: cursor), header.recordCount >= 0 {
                records += Int(header.recordCount)
                cursor += header.size
            }
            return records
        }
    }

    /// Removes the segment's three files, the `.log` last: a segment whose deletion fails part
    /// way keeps its records and comes back whole at the next open (indexes are rebuilt).
    /// - Throws: ``RunnelError`` `.io` naming the file that stayed; the caller keeps the segment.
    func delete() throws {
        for url in [timeIndex.url, offsetIndex.url, log.url] {
            do {
                try DurableFile.remove(url)
            } catch let error as RunnelError {
                throw RunnelError(.io, "\(error.message); the segment \(log.url.lastPathComponent) stays in the log",
                                  hint: "Make the file deletable (it must be a file in a folder you may write), then run the command again")
            }
        }
    }
}

/// A batch in a segment file that does not parse or fails its checksum, with where it is.
package struct SegmentDamage: Error, Sendable, CustomStringConvertible {
    /// The `.log` file.
    package let file: URL
    /// The byte offset of the batch in the file.
    package let position: Int
    /// What is wrong.
    package let problem: RecordBatch.Problem

    init(file: URL, position: Int, problem: RecordBatch.Problem) {
        self.file = file
        self.position = position
        self.problem = problem
    }

    package var description: String { "\(file.path) at byte \(position): \(problem)" }
}
