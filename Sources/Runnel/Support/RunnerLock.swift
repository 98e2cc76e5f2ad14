#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The one-runner rule: an exclusive `flock` on `<home>/locks/<role>-<name>.lock`, with the
/// holder's pid written inside, held for as long as the value lives.
///
/// A pipeline (and later a handler or a saga coordinator) takes one before it loads its state,
/// so a second process that starts the same one is refused with the holder's pid instead of
/// processing the same records again. The kernel drops the lock when the holder exits, however
/// it exits, so a SIGKILLed runner never leaves a stale lock behind. `flock` locks belong to an
/// open file, so a second runner in the same process is refused too.
///
/// ```swift
/// let lock = try RunnerLock.acquire(.pipeline, named: "member-sessions", in: store.home)
/// // … run; the lock is released when `lock` is released
/// ```
package final class RunnerLock: Sendable {
    /// What kind of runner holds the lock: the word in the file name and in the refusal.
    package struct Role: Sendable, Hashable {
        /// The word used in file names (`pipeline-NAME.lock`) and messages ("pipeline NAME").
        package let noun: String
        /// The command that runs one by name, for the hint (`runnel run NAME`).
        package let command: String

        package static let pipeline = Role(noun: "pipeline", command: "runnel run")
        package static let handler = Role(noun: "handler", command: "runnel run")
        package static let saga = Role(noun: "saga", command: "runnel run")
        /// The outbox's relay, into the log or a Kafka cluster: two at once would split the
        /// rows between destinations, or double them into one.
        package static let relay = Role(noun: "relay", command: "runnel relay")
        /// A mirror of the log into a Kafka cluster.
        package static let mirror = Role(noun: "mirror", command: "runnel log mirror")
    }

    /// The folder of the home that holds every runner's lock file.
    package static func folder(in home: RunnelHome) -> URL {
        home.url.appendingPathComponent("locks", isDirectory: true)
    }

    package let role: Role
    package let name: String
    /// The lock file.
    package let url: URL
    // The open file holds the flock; closing it (when this value goes) releases the lock.
    private let file: DurableFile

    private init(role: Role, name: String, url: URL, file: DurableFile) {
        self.role = role
        self.name = name
        self.url = url
        self.file = file
    }

    /// Takes the lock of one runner, without waiting.
    /// - Parameters:
    ///   - role: What runs (a pipeline).
    ///   - name: Its name (a pipeline's name is a safe file name: see ``Pipeline/validate()``).
    ///   - home: The home whose `locks/` folder holds the file.
    /// - Throws: ``RunnelError`` `.concurrentRunner` naming the holder's pid and the lock file
    ///   when another runner holds it; `.io` when the file cannot be made.
    package static func acquire(_ role: Role, named name: String, in home: RunnelHome) throws -> RunnerLock {
        let folder = folder(in: home)
        let url = url(role, named: name, in: home)
        let file: DurableFile
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            file = try DurableFile(url, create: true)
        } catch let error as RunnelError {
            throw error
        } catch {
            throw RunnelError(.io, "cannot create the lock file \(url.path) of \(role.noun) \(name): \(error.localizedDescription)",
                              hint: "Check that \(folder.path) is writable by this user")
        }
        var locked = try file.tryLock()
        // A holder in this process may be one that just let go: a child process forked at that
        // moment (by any thread) shares the lock file's descriptor until its exec closes it, and
        // keeps the lock that long. That passes in milliseconds; a runner that really holds the
        // lock is still refused, a moment later.
        var waited = 0
        while !locked, waited < 100, holderPID(url, attempts: 1) == getpid() {
            usleep(10_000)
            waited += 1
            locked = try file.tryLock()
        }
        guard locked else {
            throw refusal(role: role, name: name, url: url)
        }
        try file.truncate(to: 0)
        try Data("\(getpid())\n".utf8).withUnsafeBytes { try file.write($0, at: 0) }
        return RunnerLock(role: role, name: name, url: url, file: file)
    }

    /// The error for a lock someone else holds, naming them.
    private static func refusal(role: Role, name: String, url: URL) -> RunnelError {
        let holder = holderPID(url)
        let who: String
        if holder == getpid() {
            who = "another runner in this process (pid \(holder!), lock file \(url.path))"
        } else {
            who = "another process (pid \(holder.map(String.init) ?? "unknown"), lock file \(url.path))"
        }
        let stop = holder.map { "stop it (`kill \($0)`)" } ?? "stop it"
        return RunnelError(.concurrentRunner, "\(role.noun) \(name) is already being run by \(who)",
                           hint: "One runner per \(role.noun) at a time, so each record is processed once: wait for it to finish or \(stop), then run `\(role.command) \(name)` again")
    }

    /// The pid the holder wrote. It writes right after it takes the lock, so an empty file is
    /// read again briefly before giving up.
    private static func holderPID(_ url: URL, attempts: Int = 20) -> Int32? {
        for attempt in 0..<attempts {
            if let text = try? String(contentsOf: url, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return pid
            }
            if attempt < attempts - 1 { usleep(5_000) }
        }
        return nil
    }
}

// MARK: - Holders

extension RunnerLock {
    /// The `flock` write locks held on the machine now, read from `/proc/locks` once, for a
    /// status read that asks about many lock files; nil where there is no such table.
    package struct HeldLocks: Sendable {
        /// Pid and inode of each exclusive `flock`.
        fileprivate let held: Set<HeldLock>

        fileprivate struct HeldLock: Hashable {
            var pid: Int32
            var inode: UInt64
        }

        /// Reads the table, or nil where the system has none (then ``RunnerLock/holder(of:in:)``
        /// trusts a living pid).
        package static func read() -> HeldLocks? {
            guard let data = procFileBytes("/proc/locks") else { return nil }
            // `1: FLOCK  ADVISORY  WRITE 12345 fd:01:1234567 0 EOF`, one lock a line; waiters
            // (`1: -> FLOCK …`) have an extra field and are not held. Parsed by bytes: the table
            // lists every lock of the machine, often hundreds.
            var held = Set<HeldLock>()
            data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
                var fields: [Range<Int>] = []
                fields.reserveCapacity(8)
                var lineStart = 0
                func field(_ range: Range<Int>, is text: StaticString) -> Bool {
                    range.count == text.utf8CodeUnitCount && zip(bytes[range], UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)).allSatisfy { $0 == $1 }
                }
                func number(_ range: Range<Int>) -> UInt64? {
                    var value: UInt64 = 0
                    for byte in bytes[range] {
                        guard byte >= 48, byte <= 57 else { return nil }
                        value = value &* 10 &+ UInt64(byte - 48)
                    }
                    return range.isEmpty ? nil : value
                }
                for index in 0...bytes.count where index == bytes.count || bytes[index] == 10 {
                    fields.removeAll(keepingCapacity: true)
                    var start: Int?
                    for position in lineStart..<index {
                        if bytes[position] == 32 {
                            if let begun = start { fields.append(begun..<position); start = nil }
                        } else if start == nil {
                            start = position
                        }
                    }
                    if let begun = start { fields.append(begun..<index) }
                    lineStart = index + 1
                    guard fields.count >= 6, field(fields[1], is: "FLOCK"), field(fields[3], is: "WRITE"),
                          let pid = number(fields[4]) else { continue }
                    // The device and inode, `fd:01:1234567`: the inode follows the last colon.
                    let device = fields[5]
                    guard let colon = device.last(where: { bytes[$0] == 58 }), let inode = number((colon + 1)..<device.upperBound) else { continue }
                    held.insert(HeldLock(pid: Int32(truncatingIfNeeded: pid), inode: inode))
                }
            }
            return HeldLocks(held: held)
        }
    }

    /// The process that holds a lock file now, or nil when none does — read without taking the
    /// lock, so a status screen polling it can never make a starting runner's `acquire` fail.
    ///
    /// The file names the last holder's pid; on Linux `/proc/locks` then says whether that pid
    /// still holds a `flock` on the file (its inode), which also tells a reused pid from the
    /// holder. Elsewhere the pid is taken as the holder while such a process exists.
    /// - Parameters:
    ///   - url: A lock file (a runner's, or the log's `.lock`).
    ///   - locks: The machine's locks, read once for many files; nil reads them now.
    package static func holder(of url: URL, in locks: HeldLocks? = nil) -> Int32? {
        guard let pid = holderPID(url, attempts: 1) else { return nil }
        if let table = locks ?? HeldLocks.read() {
            guard let inode = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.systemFileNumber] as? UInt64 else { return nil }
            return table.held.contains(HeldLocks.HeldLock(pid: pid, inode: inode)) ? pid : nil
        }
        return kill(pid, 0) == 0 || errno == EPERM ? pid : nil
    }

    /// The whole of a `/proc` file, or nil where there is none (not Linux).
    ///
    /// Read to the end by hand: a `/proc` file reports a size of 0, and Foundation's readers
    /// then keep only their first read (about 4 KiB). Linux lists the newest locks first, so on
    /// a machine taking many locks a runner's line falls past that.
    static func procFileBytes(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return bytes }
            bytes += buffer[0..<count]
        }
    }

    /// The lock file of one runner (whether or not anyone holds it).
    package static func url(_ role: Role, named name: String, in home: RunnelHome) -> URL {
        folder(in: home).appendingPathComponent("\(role.noun)-\(name).lock")
    }
}
