import Foundation

/// Opening a partition folder: finds its segments, learns where each ends, and for the writer
/// checks the tail by one rule whether the log stopped cleanly or not (`docs/log-format.md`,
/// "Durability and recovery").
///
/// A writer checks every batch from the last index entry before the ``RecoveryCheckpoint`` to
/// the end of the active segment: after a clean stop the checkpoint is the end, so that is the
/// last batch plus anything appended since; after a crash it is also everything written since
/// the last checkpoint. A bad batch past the checkpoint, and everything after it, is cut and
/// reported; a damaged batch the checkpoint covers was flushed and maybe handed out, so it is
/// not cut: the partition is opened refusing appends until it is repaired. Missing indexes
/// are rebuilt.
struct LogLoader {
    let topic: String
    let partition: Int
    let folder: URL
    let writable: Bool
    /// The log closed cleanly last time: report only what was found wrong.
    let clean: Bool

    /// What opening found.
    struct Loaded {
        var segments: SegmentList
        /// The last segment's file and base offset, when the checkpoint names it and it is gone
        /// (a reader only: the writer refuses to open).
        var lostLastSegment: (file: URL, baseOffset: Int64)?
        /// A damaged batch the checkpoint covers at the end of the active segment.
        var refusedTail: SegmentDamage?
        /// What checking the tail found: always after an unclean stop, after a clean one only
        /// when something was cut or refused.
        var report: RecoveryReport?
    }

    func load() throws -> Loaded {
        let files = FileManager.default
        if writable {
            try files.createDirectory(at: folder, withIntermediateDirectories: true)
            // Leftovers of an interrupted compaction: the originals are still in place.
            for name in try DurableFile.names(in: folder) where name.hasSuffix(".cleaned") || name.hasSuffix(".tmp") {
                try DurableFile.remove(folder.appendingPathComponent(name))
            }
        }
        // The checkpoint is read before the folder is listed: the writer creates a segment
        // before a checkpoint names it, so a segment it names that the listing lacks is gone.
        let checkpoint = try RecoveryCheckpoint.read(in: folder)
        let bases = try DurableFile.names(in: folder, missingIsEmpty: !writable).compactMap(LogSegment.baseOffset(ofFile:)).sorted()
        var loaded = Loaded(segments: SegmentList(folder: folder, segments: []))
        if let checkpoint, checkpoint.segment > (bases.last ?? -1) {
            let file = folder.appendingPathComponent(LogSegment.name(checkpoint.segment, "log"))
            loaded.lostLastSegment = (file, checkpoint.segment)
            if writable {
                throw RunnelError(.logGap, "the last segment \(file.lastPathComponent) of \(folder.path), named by its \(RecoveryCheckpoint.fileName), is gone: "
                                  + "the records from offset \(checkpoint.segment) on are lost, and appending would give new records offsets already handed out",
                                  hint: "Restore the file from a backup. To accept the loss instead, delete \(folder.appendingPathComponent(RecoveryCheckpoint.fileName).path); "
                                      + "then rebuild the pipelines that read past offset \(checkpoint.segment) (`runnel run --rebuild`)")
            }
        }
        var segments = try bases.map { try LogSegment(folder: folder, baseOffset: $0, writable: writable) }
        if segments.isEmpty, writable {
            segments = [try LogSegment(folder: folder, baseOffset: 0, writable: true)]
            try DurableFile.syncFolder(folder)
        }
        loaded.segments = SegmentList(folder: folder, segments: segments)
        guard writable else {
            for index in 0..<loaded.segments.count { try Self.loadEnd(of: index, in: loaded.segments, writable: false) }
            loaded.segments.noteGaps()
            return loaded
        }
        try checkTail(&loaded, checkpoint: checkpoint)
        loaded.segments.noteGaps()
        return loaded
    }

    /// The writer's check of everything from the checkpoint on (see the type's documentation).
    private func checkTail(_ loaded: inout Loaded, checkpoint saved: RecoveryCheckpoint?) throws {
        let first = loaded.segments[0], last = loaded.segments.active
        // A clean close leaves the checkpoint at the end; without one, nothing is covered
        // after a crash, and everything is after a clean stop whose checkpoint was removed.
        let checkpoint = saved ?? (clean ? .end(of: last) : RecoveryCheckpoint(segment: first.baseOffset, position: 0))
        var report = RecoveryReport(topic: topic, partition: partition, cleanStop: clean)
        var changed = !clean
        var index = 0
        while index < loaded.segments.count {
            defer { index += 1 }
            let segment = loaded.segments[index]
            let isLast = index == loaded.segments.count - 1
            let checked: Int
            if segment.baseOffset > checkpoint.segment {
                checked = 0
            } else if segment.baseOffset == checkpoint.segment {
                checked = min(checkpoint.position, segment.size)
            } else if segment.indexesMissing {
                checked = segment.size
            } else {
                try Self.loadEnd(of: index, in: loaded.segments, writable: true)
                continue
            }
            let recovery: LogSegment.Recovery
            do {
                recovery = try segment.recover(checkedFrom: checked)
            } catch let damage as SegmentDamage {
                if isLast {
                    loaded.refusedTail = damage
                    report.refusedDamage = damage
                    loaded.report = report
                    return
                }
                // A closed segment: appends go on at the end, and `verify` reports the damage.
                segment.setNextOffset(loaded.segments[index + 1].baseOffset)
                continue
            }
            report.scannedBytes += segment.size + recovery.truncatedBytes - checked
            report.truncatedBytes += recovery.truncatedBytes
            report.droppedRecords += recovery.droppedRecords
            report.damage = report.damage ?? recovery.problem
            if report.scannedBytes > 0 { changed = true }
            if recovery.truncatedBytes > 0, !isLast {
                // Later segments follow a hole: drop them, as Kafka does.
                report.truncatedBytes += try loaded.segments.deleteSegments(after: index)
                break
            }
        }
        guard changed else { return }
        // What was checked becomes the new checkpoint: `recover` has fsynced each segment it
        // checked and changed, and the checkpoint's write fsyncs the folder.
        try RecoveryCheckpoint.end(of: loaded.segments.active).write(in: folder)
        loaded.report = report
    }

    /// Learns where the segment at `index` ends, from its last batches (or, for a reader whose
    /// index files are missing, from a scan that rebuilds them in memory).
    static func loadEnd(of index: Int, in segments: SegmentList, writable: Bool) throws {
        let segment = segments[index]
        let isLast = index == segments.count - 1
        do {
            if segment.offsetIndex.file == nil {
                try segment.rebuildIndexesInMemory()
            } else {
                try segment.loadTail()
            }
        } catch is SegmentDamage where !writable && isLast {
            // A reader in another process may see a batch being written: stop before it.
        } catch is SegmentDamage where !isLast {
            // A closed segment whose last batch is damaged: its end cannot be read, so assume
            // it ends where the next one starts. `verify` reports the damage.
            segment.setNextOffset(segments[index + 1].baseOffset)
        }
    }
}
