import Foundation

/// A partition's `recovery-checkpoint` file: one line, `<segment base offset> <byte position>`.
/// Everything before that position of that segment, and every segment before it, was fsynced
/// and checked; opening for writing checks only from there on (see ``LogLoader``).
///
/// The writer moves it at every roll, every ``intervalBytes`` flushed and at a clean close,
/// always after syncing what it covers; it is written aside and renamed.
struct RecoveryCheckpoint: Hashable, Sendable {
    static let fileName = "recovery-checkpoint"
    /// After this many fsynced bytes the checkpoint moves forward, bounding the scan after a crash.
    static let intervalBytes = 16 << 20

    /// The base offset of the segment it points into.
    var segment: Int64
    /// The byte position in that segment up to which everything is covered.
    var position: Int

    /// The checkpoint of a partition folder: nil when there is none, or when the file does not
    /// parse (then nothing is taken as covered, and the writer checks from the first segment).
    /// - Throws: ``RunnelError`` `.io` when the file exists but cannot be read.
    static func read(in folder: URL) throws -> RecoveryCheckpoint? {
        let url = folder.appendingPathComponent(fileName)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            guard FileManager.default.fileExists(atPath: url.path) else { return nil }
            throw RunnelError(.io, "cannot read \(url.path): \(error.localizedDescription)")
        }
        let parts = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace)
        guard parts.count == 2, let segment = Int64(parts[0]), let position = Int(parts[1]), position >= 0 else { return nil }
        return RecoveryCheckpoint(segment: segment, position: position)
    }

    /// Writes the checkpoint atomically (aside, fsynced, renamed, folder fsynced). Call only
    /// after syncing what it covers.
    func write(in folder: URL) throws {
        try DurableFile.replace(folder.appendingPathComponent(Self.fileName), with: Data("\(segment) \(position)\n".utf8))
    }

    /// The checkpoint at the end of `segment`: everything in it covered.
    static func end(of segment: LogSegment) -> RecoveryCheckpoint {
        RecoveryCheckpoint(segment: segment.baseOffset, position: segment.size)
    }
}
