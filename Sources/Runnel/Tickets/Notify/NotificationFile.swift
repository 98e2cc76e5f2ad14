import Foundation

/// `reports/notifications.jsonl`, the file channel: one JSON line per notification, appended and
/// fsynced before the notifications are marked delivered.
///
/// The notifier holds an exclusive lock on the file while it lives, so two notifiers never
/// append at once. A crash can leave two things behind, and ``recover(after:)`` handles both
/// before anything is appended: a torn last line (cut off at the last newline; its notification
/// is still pending and is written again whole), and whole lines of notifications that were
/// never marked delivered (their keys are returned, so they are marked without a second line).
/// Only the bytes after the file's size at the last commit are read for that, not the whole file.
final class NotificationFile: Sendable {
    /// The default file's name, in the home's `reports/`.
    static let name = "notifications.jsonl"

    let url: URL
    /// The key of the file's committed size in `runnel_notification_files`: its path. (A home
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

    /// What a crash left after the committed bytes.
    struct Recovery: Sendable {
        /// Keys of whole lines written after the last commit.
        var keys: Set<String> = []
        /// Bytes of a torn last line that were cut off.
        var cutBytes = 0
    }

    /// Cuts a torn last line and reads the keys of the lines after `committed` bytes.
    /// - Parameter committed: The file's size when notifications were last marked delivered; a
    ///   file now shorter (truncated or replaced by hand) is read from its start.
    func recover(after committed: Int) throws -> Recovery {
        try file.refreshSize()
        let size = file.size
        let start = committed <= size ? committed : 0
        guard size > start else { return Recovery() }
        let bytes = try file.read(at: start, count: size - start)
        var recovery = Recovery()
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

    /// Appends lines (each given without its newline) and fsyncs.
    /// - Returns: The file's size after them.
    func append(_ lines: [String]) throws -> Int {
        guard !lines.isEmpty else { return file.size }
        var bytes: [UInt8] = []
        for line in lines {
            bytes += line.utf8
            bytes.append(UInt8(ascii: "\n"))
        }
        try bytes.withUnsafeBytes { try file.append($0) }
        try file.sync()
        return file.size
    }

    private struct KeyOnly: Decodable {
        let key: String
    }
}
