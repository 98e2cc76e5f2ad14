import Foundation

/// A range of offsets that no segment of a partition holds: a segment file is missing between
/// the two around it (`docs/log-format.md`, "Offset continuity").
///
/// Each segment ends where the next one starts, even after compaction (which keeps every
/// segment's offset range); retention only deletes the oldest segments, so the partition starts
/// later. A gap therefore means lost records. Nothing can recreate them: reads that would cross
/// the gap throw ``error``, and a pipeline goes on past it only when told to skip it.
package struct LogGap: Sendable, Hashable, CustomStringConvertible {
    /// The partition folder.
    package let folder: URL
    /// The segment file that ends before the gap.
    package let segmentBefore: URL
    /// The segment file that starts after it.
    package let segmentAfter: URL
    /// The first missing offset.
    package let firstOffset: Int64
    /// The offset after the last missing one: the base offset of ``segmentAfter``.
    package let endOffset: Int64

    /// How many offsets are missing.
    package var count: Int64 { endOffset - firstOffset }

    /// Whether `offset` is one of the missing ones.
    package func contains(_ offset: Int64) -> Bool { offset >= firstOffset && offset < endOffset }

    package var description: String {
        "offsets \(firstOffset)–\(endOffset - 1) (\(count) record\(count == 1 ? "" : "s")) are missing in \(folder.path): "
            + "\(segmentBefore.lastPathComponent) ends at offset \(firstOffset - 1) and \(segmentAfter.lastPathComponent) starts at \(endOffset)"
    }

    /// The error a read that would cross the gap throws.
    package var error: RunnelError {
        RunnelError(.logGap, description,
                    hint: "Restore the missing segment file (offsets \(firstOffset)–\(endOffset - 1)) from a backup; `runnel log repair` cannot recreate records. "
                        + "Pipelines stop at the gap unless run with `runnel run --skip-gap`, which goes on at offset \(endOffset) and records the skip")
    }
}
