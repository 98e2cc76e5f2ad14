import Foundation

/// A partition's segments in offset order, the last of which takes appends, and the gaps
/// between them (noted whenever the list changes).
///
/// A value without a lock of its own: its ``PartitionLog`` holds it under the partition's lock.
/// The segments are shared references; a reader may keep reading one the list has dropped.
struct SegmentList {
    let folder: URL
    private(set) var segments: [LogSegment]
    /// The offset ranges missing between segments.
    private(set) var gaps: [LogGap] = []

    init(folder: URL, segments: [LogSegment]) {
        self.folder = folder
        self.segments = segments
        noteGaps()
    }

    var count: Int { segments.count }
    subscript(index: Int) -> LogSegment { segments[index] }
    /// The segment that takes appends. The list of a writer is never empty.
    var active: LogSegment { segments[segments.count - 1] }
    /// All but the active segment: closed, never appended to again.
    var closed: ArraySlice<LogSegment> { segments.dropLast() }

    /// The first offset held, the offset the next record gets, and the bytes held.
    var startOffset: Int64 { segments.first?.baseOffset ?? 0 }
    var endOffset: Int64 { segments.last?.nextOffset ?? 0 }
    var bytes: Int { segments.reduce(0) { $0 + $1.size } }

    /// The segments holding records at or after `offset`, oldest first.
    func holding(from offset: Int64) -> [LogSegment] {
        segments.filter { $0.nextOffset > offset && !$0.isEmpty }
    }

    /// The index of a segment in the list, if it is still there.
    func index(of segment: LogSegment) -> Int? {
        segments.firstIndex { $0 === segment }
    }

    // MARK: - Changes

    /// Adds a new active segment (a roll).
    mutating func append(_ segment: LogSegment) {
        segments.append(segment)
        noteGaps()
    }

    /// Adds segments another process created (a reader's refresh), keeping the order.
    mutating func insert(discovered: [LogSegment]) {
        segments.append(contentsOf: discovered)
        segments.sort { $0.baseOffset < $1.baseOffset }
        noteGaps()
    }

    /// Forgets the segments whose `.log` files are gone (another process's retention or
    /// repair deleted them): a reader's refresh, which must neither count their records nor keep
    /// their deleted files open.
    /// - Parameter present: The base offsets of the `.log` files in the folder now.
    mutating func forgetSegments(notIn present: Set<Int64>) {
        let before = segments.count
        segments.removeAll { !present.contains($0.baseOffset) }
        if segments.count != before { noteGaps() }
    }

    /// Puts a rewritten segment (compaction) in the place of the one it replaces.
    mutating func replace(at index: Int, with segment: LogSegment) {
        precondition(segments[index].baseOffset == segment.baseOffset, "a replacement must keep the segment's base offset")
        segments[index] = segment
        noteGaps()
    }

    /// Deletes the oldest segment's files, then forgets it (retention).
    /// - Throws: What the delete throws; the segment then stays.
    mutating func deleteOldest() throws {
        try segments[0].delete()
        segments.removeFirst()
        noteGaps()
    }

    /// Deletes every segment after the one at `index`, newest first, so that a delete that
    /// fails leaves the segments before it in place and in the list.
    /// - Returns: The bytes deleted.
    mutating func deleteSegments(after index: Int) throws -> Int {
        var bytes = 0
        defer { noteGaps() }
        while segments.count > index + 1 {
            let later = segments[segments.count - 1]
            try later.delete()
            bytes += later.size
            segments.removeLast()
        }
        try DurableFile.syncFolder(folder)
        return bytes
    }

    /// Notes each range of offsets between one segment's end and the next one's base. Call
    /// after a segment's end changed.
    mutating func noteGaps() {
        gaps = zip(segments, segments.dropFirst()).compactMap { before, after in
            guard before.nextOffset < after.baseOffset else { return nil }
            return LogGap(folder: folder, segmentBefore: before.log.url, segmentAfter: after.log.url,
                          firstOffset: before.nextOffset, endOffset: after.baseOffset)
        }
    }
}
