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
        try fillLoop(buffer) { read(descriptor, $0, $1) }
    }

    /// Fills `buffer` from a byte position with `pread`, leaving the file offset alone.
    /// - Returns: The bytes read: all of `buffer` unless the file ends first.
    func fill(_ buffer: UnsafeMutableRawBufferPointer, from position: Int) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        return try fillLoop(buffer) { start, count in pread(descriptor, start, count, off_t(position + (start - base))) }
    }

    /// Calls `readSome` (a `read` or `pread`, given where to put bytes and how many at most)
    /// until `buffer` is full or it reports the end of the file, retrying on `EINTR`.
    /// - Returns: The bytes read.
    private func fillLoop(_ buffer: UnsafeMutableRawBufferPointer, _ readSome: (UnsafeMutableRawPointer, Int) -> Int) throws -> Int {
        var done = 0
        while done < buffer.count {
            let got = readSome(buffer.baseAddress! + done, buffer.count - done)
            if got < 0 {
                if errno == EINTR { continue }
                throw Self.failure("read", url)
            }
            if got == 0 { break }
            done += got
        }
        return done
    }

    /// Evicts files from the page cache, so that the next read of them comes from the disk:
    /// each is written back first (`fdatasync`: dirty pages cannot be dropped), then its pages
    /// are dropped with `posix_fadvise(POSIX_FADV_DONTNEED)`, which needs no privileges, only
    /// a descriptor of the file. Pages another process has mapped and locked stay; directory
    /// entries and inodes stay cached too (only a privileged `drop_caches` evicts those).
    /// - Throws: When a file cannot be opened, synced or advised; on a system without
    ///   `posix_fadvise` (Darwin), always, rather than measuring a warm cache as a cold one.
    static func dropFromPageCache(_ urls: [URL]) throws {
        for url in urls {
            let file = try openForReading(url)
            guard fdatasync(file.descriptor) == 0 else { throw failure("fdatasync", url) }
            #if canImport(Glibc)
            let result = posix_fadvise(file.descriptor, 0, 0, POSIX_FADV_DONTNEED)
            guard result == 0 else {
                throw BenchmarkError("cannot drop \(url.path) from the page cache: \(String(cString: strerror(result)))")
            }
            #else
            throw BenchmarkError("cannot drop \(url.path) from the page cache: this system has no posix_fadvise")
            #endif
        }
    }

    /// The share of the files' pages now in the page cache (0 to 1), counted with `mincore`
    /// over a read-only mapping: the check that ``dropFromPageCache(_:)`` took effect.
    static func residentFraction(of urls: [URL]) throws -> Double {
        #if canImport(Glibc)
        let pageSize = Int(getpagesize())
        var pages = 0
        var resident = 0
        for url in urls {
            let size = try size(of: url)
            guard size > 0 else { continue }
            let file = try openForReading(url)
            guard let mapping = mmap(nil, size, PROT_READ, MAP_SHARED, file.descriptor, 0), mapping != MAP_FAILED else {
                throw failure("mmap", url)
            }
            defer { munmap(mapping, size) }
            let count = (size + pageSize - 1) / pageSize
            var vector = [UInt8](repeating: 0, count: count)
            guard mincore(mapping, size, &vector) == 0 else { throw failure("mincore", url) }
            pages += count
            resident += vector.reduce(0) { $0 + Int($1 & 1) }
        }
        return pages > 0 ? Double(resident) / Double(pages) : 0
        #else
        throw BenchmarkError("cannot count the cached pages of \(urls.first?.path ?? "no file"): this system's mincore differs")
        #endif
    }

    /// Every regular file under a folder, at any depth, sorted by path: what a cold-cache
    /// round drops.
    static func files(under folder: URL) throws -> [URL] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw BenchmarkError("cannot list \(folder.path)")
        }
        var files: [URL] = []
        for case let url as URL in walker where try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true {
            files.append(url)
        }
        return files.sorted { $0.path < $1.path }
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
