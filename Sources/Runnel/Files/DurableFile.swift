#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A file opened with POSIX calls: positioned reads and writes, explicit fsync, truncation,
/// locks, and the folder operations durable writes need (fsync of a folder, atomic replace).
/// The log's segments and indexes and the KV files are written through it.
///
/// Callers manage positions themselves (appends go to ``size``), so nothing depends on a shared
/// file offset and readers never disturb the writer. Safe to share between threads: reads may
/// run beside one writer (a partition's, under its lock), and ``size`` only moves after the
/// bytes it covers are written.
final class DurableFile: Sendable {
    let url: URL
    private let descriptor: Int32
    private let knownSize: Atomic<Int>

    /// The bytes written (or, for a reader, seen at the last ``refreshSize()``).
    var size: Int { knownSize.load(ordering: .acquiring) }

    /// Opens (creating when `create`) a file for reading and writing, or reading only.
    init(_ url: URL, create: Bool, writable: Bool = true) throws {
        self.url = url
        var flags = writable ? O_RDWR : O_RDONLY
        if create { flags |= O_CREAT }
        flags |= O_CLOEXEC
        let fd = open(url.path, flags, 0o644)
        guard fd >= 0 else { throw DurableFile.error("open", url) }
        descriptor = fd
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw DurableFile.error("stat", url)
        }
        knownSize = Atomic(Int(info.st_size))
    }

    deinit {
        close(descriptor)
    }

    /// Appends bytes at the end.
    func append(_ bytes: UnsafeRawBufferPointer) throws {
        try write(bytes, at: size)
    }

    /// Writes bytes at a position, extending the file as needed.
    func write(_ bytes: UnsafeRawBufferPointer, at position: Int) throws {
        var done = 0
        while done < bytes.count {
            let written = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(position + done))
            if written < 0 {
                if errno == EINTR { continue }
                throw DurableFile.error("write", url)
            }
            done += written
        }
        if position + bytes.count > size { knownSize.store(position + bytes.count, ordering: .releasing) }
    }

    /// Reads up to `count` bytes from a position into a new array (fewer at the end of the file).
    func read(at position: Int, count: Int) throws -> [UInt8] {
        let wanted = max(0, min(count, size - position))
        return try [UInt8](unsafeUninitializedCapacity: wanted) { buffer, initialized in
            initialized = try read(into: UnsafeMutableRawBufferPointer(buffer), at: position)
        }
    }

    /// Reads into a buffer from a position; returns the bytes read (fewer only at the end).
    func read(into buffer: UnsafeMutableRawBufferPointer, at position: Int) throws -> Int {
        var done = 0
        while done < buffer.count {
            let got = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(position + done))
            if got < 0 {
                if errno == EINTR { continue }
                throw DurableFile.error("read", url)
            }
            if got == 0 { break }
            done += got
        }
        return done
    }

    /// Re-reads the size from the file system (for readers following a file another process appends to).
    func refreshSize() throws {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw DurableFile.error("stat", url) }
        knownSize.store(Int(info.st_size), ordering: .releasing)
    }

    /// Forces written bytes to stable storage.
    func sync() throws {
        guard fsync(descriptor) == 0 else { throw DurableFile.error("fsync", url) }
    }

    /// Cuts the file to a size.
    func truncate(to length: Int) throws {
        guard ftruncate(descriptor, off_t(length)) == 0 else { throw DurableFile.error("truncate", url) }
        knownSize.store(length, ordering: .releasing)
    }

    /// Takes an exclusive lock on the whole file, waiting while another open file holds it
    /// (released when the file closes): for work that is short and must not be refused.
    /// - Throws: ``RunnelError`` `.io` when the lock cannot be taken.
    func lock() throws {
        while flock(descriptor, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            throw DurableFile.error("lock", url)
        }
    }

    /// Takes an exclusive, non-blocking lock on the whole file (released when the file closes).
    /// - Returns: false when another open file holds it.
    /// - Throws: ``RunnelError`` `.io` when the lock cannot be taken for another reason (no
    ///   locks on this file system, say), so that is never reported as someone holding it.
    func tryLock() throws -> Bool {
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK { return false }
            throw DurableFile.error("lock", url)
        }
        return true
    }

    /// Releases the lock ``tryLock()`` took.
    func unlock() throws {
        while flock(descriptor, LOCK_UN) != 0 {
            if errno == EINTR { continue }
            throw DurableFile.error("unlock", url)
        }
    }

    /// Fsyncs a folder, so that files created, renamed or deleted in it survive a crash.
    static func syncFolder(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw error("open folder", url) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw error("fsync folder", url) }
    }

    /// Writes a small file atomically: aside, fsynced, renamed over the old one, folder fsynced.
    static func replace(_ url: URL, with data: Data) throws {
        let aside = url.appendingPathExtension("tmp")
        let file = try DurableFile(aside, create: true)
        try file.truncate(to: 0)
        try data.withUnsafeBytes { try file.write($0, at: 0) }
        try file.sync()
        guard rename(aside.path, url.path) == 0 else { throw error("rename", aside) }
        try syncFolder(url.deletingLastPathComponent())
    }

    /// Removes a file; one already gone is fine.
    /// - Throws: ``RunnelError`` `.io` naming the file when it stays (a directory in its place,
    ///   no permission on the folder, an I/O error).
    static func remove(_ url: URL) throws {
        guard unlink(url.path) == 0 || errno == ENOENT else { throw error("delete", url) }
    }

    /// The names in a folder.
    /// - Parameter missingIsEmpty: A folder that does not exist (yet) lists as empty.
    /// - Throws: ``RunnelError`` `.io` when the folder cannot be listed.
    static func names(in url: URL, missingIsEmpty: Bool = false) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: url.path)
        } catch {
            if missingIsEmpty {
                if !FileManager.default.fileExists(atPath: url.path) { return [] }
                // Made between the listing and the look (a relay creating a topic's partition
                // folders while a reader opens it): it can be listed now.
                if let names = try? FileManager.default.contentsOfDirectory(atPath: url.path) { return names }
            }
            throw RunnelError(.io, "cannot list the folder \(url.path): \(error.localizedDescription)")
        }
    }

    static func error(_ operation: String, _ url: URL) -> RunnelError {
        let reason = String(cString: strerror(errno))
        return RunnelError(.io, "cannot \(operation) \(url.path): \(reason)")
    }
}
