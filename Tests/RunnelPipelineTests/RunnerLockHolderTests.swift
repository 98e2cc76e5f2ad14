import Foundation
import Runnel
import RunnelTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Who holds a runner's lock is found however many other locks the machine holds.
@Suite struct RunnerLockHolderTests {
    /// Linux lists the newest locks first in `/proc/locks`; with hundreds taken after the
    /// runner's, its line is far past the first read of that file.
    @Test func theHolderIsFoundBehindManyNewerLocks() throws {
        let temporary = try TemporaryHome(label: "locks")
        let lock = try RunnerLock.acquire(.handler, named: "hotels", in: temporary.home)
        let others = temporary.folder.appendingPathComponent("others", isDirectory: true)
        try FileManager.default.createDirectory(at: others, withIntermediateDirectories: true)
        var descriptors: [Int32] = []
        defer { descriptors.forEach { close($0) } }
        for index in 0..<300 {
            let descriptor = open(others.appendingPathComponent("\(index).lock").path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            try #require(descriptor >= 0)
            descriptors.append(descriptor)
            try #require(flock(descriptor, LOCK_EX | LOCK_NB) == 0)
        }
        #expect(RunnerLock.holder(of: RunnerLock.url(.handler, named: "hotels", in: temporary.home)) == getpid())
        withExtendedLifetime(lock) {}
    }
}
