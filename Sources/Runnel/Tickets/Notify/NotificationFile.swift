import Foundation

/// `reports/notifications.jsonl`, the file channel: one JSON line per notification, appended and
/// fsynced before the notifications are marked delivered.
///
/// The notifier holds an exclusive lock on the file while it lives, so two notifiers never
/// append at once. A crash can leave two things behind, and ``recover(after:)`` handles both
/// before anything is appended: a torn last line (cut off at the last newline; its notification
/// is still pending and is written again whole), and whole lines of notifications that were
/// never marked delivered (their keys are returned, so they are marked without a second line).
/// Only the bytes after the file's size at the last commit are read for that, not the whole file,
/// as long as the file still holds the last committed line where the commit left it (``Mark``).
final class NotificationFile: Sendable {
    /// The default file's name, in the home's `reports/`.
    static let name = "notifications.jsonl"

    let url: URL
    /// The key of the file's committed mark in `runnel_notification_files`: its path. (A home
    /// moved elsewhere reads its file whole once, which is slower, never wrong.)
    var ledgerName: String { url.standardizedFileURL.path }
    private let file: DurableFile

    /// Opens (creating) the file and locks it.
    /// - Throws: ``RunnelError`` `.tickets` when another notifier holds the file; `.io` when it
    ///   cannot be made.
    init(_ url: URL) throws {
        self.url = url
        let folder = url.deletingLastPathComponent()
        let existed = FileManager.default.fileExists(atPath: url.path)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw RunnelError(.io, "cannot create the folder \(folder.path) for \(url.lastPathComponent): \(error.localizedDescription)",
                              hint: "Check that the home is writable by this user")
        }
        file = try DurableFile(url, create: true)
        if !existed { try DurableFile.syncFolder(folder) }
        guard try file.tryLock() else {
            throw RunnelError(.tickets, "\(url.path) is locked by another notifier",
                              hint: "One `runnel tickets notify` per home at a time: stop the other one, or let it deliver these notifications")
        }
    }

    /// How the file stood when notifications were last marked delivered: its size, and its last
    /// line up to that size.
    ///
    /// The size alone does not prove the file still holds what was committed: emptied by hand,
    /// then written past that size by a pass that crashed before its commit, it is as long, and
    /// reading from the size would start mid-line and miss the keys before it. The last line
    /// holds a key no other line has (every key is in the file once), so finding it where the
    /// commit left it does.
    struct Mark: Sendable, Hashable {
        /// The file's size.
        var size = 0
        /// The bytes of the last line, newline included; only its last ``maximumTail`` bytes for
        /// a longer line.
        var tail: [UInt8] = []

        static let maximumTail = 64 << 10
    }

    /// What a crash left after the committed bytes.
    struct Recovery: Sendable {
        /// Keys of whole lines written after the last commit.
        var keys: Set<String> = []
        /// Bytes of a torn last line that were cut off.
        var cutBytes = 0
        /// Whether the file no longer held the committed bytes (emptied or replaced by hand) and
        /// was read from its start.
        var readFromStart = false
    }

    /// Cuts a torn last line and reads the keys of the lines after the committed bytes.
    /// - Parameter committed: The file's mark when notifications were last marked delivered; a
    ///   file that no longer holds its last line there (shorter, emptied or replaced by hand) is
    ///   read from its start.
    func recover(after committed: Mark) throws -> Recovery {
        try file.refreshSize()
        let size = file.size
        let start = try holds(committed) ? committed.size : 0
        var recovery = Recovery(readFromStart: start == 0 && committed.size > 0)
        guard size > start else { return recovery }
        let bytes = try file.read(at: start, count: size - start)
        let whole = bytes.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
        if whole < bytes.count {
            recovery.cutBytes = bytes.count - whole
            try file.truncate(to: start + whole)
            try file.sync()
        }
        let decoder = JSONDecoder()
        for line in bytes[..<whole].split(separator: UInt8(ascii: "\n")) {
            // A line that is not a notification (edited by hand) names no key and is left alone.
            if let key = try? decoder.decode(KeyOnly.self, from: Data(line)).key { recovery.keys.insert(key) }
        }
        return recovery
    }

    /// The file's mark now: its size and its last line.
    func mark() throws -> Mark {
        let size = file.size
        let window = try file.read(at: max(0, size - Mark.maximumTail), count: Mark.maximumTail)
        // The window's last byte is the last line's newline; the one before it ends the line before.
        let start = window.dropLast().lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
        return Mark(size: size, tail: Array(window[start...]))
    }

    /// Whether the file still holds the last line of `mark` where it was.
    private func holds(_ mark: Mark) throws -> Bool {
        guard mark.size <= file.size, mark.tail.count <= mark.size else { return false }
        return try file.read(at: mark.size - mark.tail.count, count: mark.tail.count) == mark.tail
    }

    /// Appends lines (each given without its newline) and fsyncs.
    func append(_ lines: [String]) throws {
        guard !lines.isEmpty else { return }
        var bytes: [UInt8] = []
        for line in lines {
            bytes += line.utf8
            bytes.append(UInt8(ascii: "\n"))
        }
        try bytes.withUnsafeBytes { try file.append($0) }
        try file.sync()
    }

    private struct KeyOnly: Decodable {
        let key: String
    }
}
