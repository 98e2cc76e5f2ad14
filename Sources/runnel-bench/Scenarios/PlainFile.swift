#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A file written and read with bare POSIX calls and nothing else: what the log scenarios'
/// baselines use to stand for "the disk without Runnel".
///
/// ```swift
/// let file = try PlainFile.create(folder.appendingPathComponent("baseline.log"))
/// try bytes.withUnsafeBytes { try file.append($0) }
/// try file.sync()
/// ```
final class PlainFile {
    let url: URL
    private let descriptor: Int32

    /// Creates a file (emptying it if it exists) whose writes go to its end.
    static func create(_ url: URL) throws -> PlainFile {
        try PlainFile(url, flags: O_WRONLY | O_CREAT | O_TRUNC | O_APPEND)
    }

    /// Opens an existing file to read it from the start.
    static func openForReading(_ url: URL) throws -> PlainFile {
        try PlainFile(url, flags: O_RDONLY)
    }

    private init(_ url: URL, flags: Int32) throws {
        self.url = url
        let fd = open(url.path, flags | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.failure("open", url) }
        descriptor = fd
    }

    deinit {
        close(descriptor)
    }

    /// Writes all of `bytes` at the end of the file (one `write` call unless the kernel takes less).
    func append(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if written < 0 {
                if errno == EINTR { continue }
                throw Self.failure("write", url)
            }
            done += written
        }
    }

    /// Writes all of `bytes` at the end of the file.
    func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try append($0) }
    }

    /// Forces what was written to stable storage.
    func sync() throws {
        guard fsync(descriptor) == 0 else { throw Self.failure("fsync", url) }
    }

    /// Reads the next bytes into `buffer`, filling it unless the file ends first.
    /// - Returns: The bytes read; 0 at the end of the file.
    func readNext(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < buffer.count {
            let got = read(descriptor, buffer.baseAddress! + done, buffer.count - done)
            if got < 0 {
                if errno == EINTR { continue }
                throw Self.failure("read", url)
            }
            if got == 0 { break }
            done += got
        }
        return done
    }

    /// The size of a file in bytes.
    static func size(of url: URL) throws -> Int {
        var info = stat()
        guard stat(url.path, &info) == 0 else { throw failure("stat", url) }
        return Int(info.st_size)
    }

    /// Whether two files hold the same bytes (read in 1 MiB chunks, so large files are fine).
    static func sameContents(_ first: URL, _ second: URL) throws -> Bool {
        guard try size(of: first) == size(of: second) else { return false }
        let a = try openForReading(first), b = try openForReading(second)
        let chunk = 1 << 20
        let left = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        let right = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer {
            left.deallocate()
            right.deallocate()
        }
        while true {
            let count = try a.readNext(into: left)
            guard try b.readNext(into: right) == count else { return false }
            if count == 0 { return true }
            guard memcmp(left.baseAddress!, right.baseAddress!, count) == 0 else { return false }
        }
    }

    /// The `.log` segment files of a partition folder, oldest first (names sort by base offset).
    static func segmentFiles(in folder: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".log") }
            .sorted()
            .map { folder.appendingPathComponent($0) }
    }

    private static func failure(_ operation: String, _ url: URL) -> BenchmarkError {
        BenchmarkError("cannot \(operation) \(url.path): \(String(cString: strerror(errno)))")
    }
}
