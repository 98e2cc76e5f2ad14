import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

/// A small tmpfs the test mounts (as root) to run a real disk out of space.
struct SmallDisk {
    let mountPoint: URL

    /// Whether this process may mount a tmpfs (root, and `mount` works here).
    static let isAvailable: Bool = {
        guard geteuid() == 0, let probe = try? TemporaryHome(label: "mount-probe") else { return false }
        guard (try? shell("/bin/mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe.folder.path)) == 0 else { return false }
        _ = try? shell("/bin/umount", probe.folder.path)
        return true
    }()

    /// Mounts a tmpfs of `bytes` at `folder` (created if needed).
    init(at folder: URL, bytes: Int) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        guard try Self.shell("/bin/mount", "-t", "tmpfs", "-o", "size=\(bytes)", "tmpfs", folder.path) == 0 else {
            throw RunnelError(.io, "cannot mount a tmpfs at \(folder.path)")
        }
        mountPoint = folder
    }

    var freeBytes: Int {
        ((try? FileManager.default.attributesOfFileSystem(forPath: mountPoint.path))?[.systemFreeSize] as? NSNumber)?.intValue ?? 0
    }

    func unmount() {
        _ = try? Self.shell("/bin/umount", "-l", mountPoint.path)
    }

    @discardableResult
    static func shell(_ arguments: String...) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// SQLite failures reach the user as errors naming the database and the next step, and the
/// step works: a full disk loses nothing, a damaged derived.sqlite is rebuilt.
@Suite struct DatabaseFailureTests {
    /// Every outbox event in id order, without ids and append times.
    static func outbox(_ home: RunnelHome) throws -> [String] {
        try Store.openReadOnly(home, .app).read { db in
            try Row.fetchAll(db, sql: "SELECT topic, key, type, payload, event_time FROM runnel_outbox ORDER BY id").map { "\($0)" }
        }
    }

    /// `runnel ARGS` as a child process: its status and standard error.
    static func child(_ arguments: [String]) throws -> (Int32, String) {
        let errors = Pipe()
        let process = try ChildProcess.launch(arguments, standardError: errors)
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test(.enabled(if: SmallDisk.isAvailable, "needs root and `mount -t tmpfs` to run a disk out of space; skipped"))
    func aFullDiskDuringSampleLoadNamesTheDatabaseAndTheLoadFinishesOnceSpaceIsFreed() async throws {
        let clean = try TemporaryHome(label: "clean")
        #expect(await runnel("migrate", "--home", clean.home.url.path).status == 0)
        #expect(await runnel("sample", "load", "--home", clean.home.url.path).status == 0)

        let temporary = try TemporaryHome(label: "full-disk")
        let disk = try SmallDisk(at: temporary.home.url, bytes: 16 << 20)
        defer { disk.unmount(); withExtendedLifetime(temporary) {} }
        let home = temporary.home.url.path
        #expect(try Self.child(["migrate", "--home", home]).0 == 0)
        // Leave about 400 KiB: the load needs about 1 MiB of database and more of WAL.
        let filler = temporary.home.url.appendingPathComponent("filler")
        try Data(count: disk.freeBytes - (400 << 10)).write(to: filler)

        let load = ["sample", "load", "--home", home]
        let (status, message) = try Self.child(load)
        #expect(status == 1)
        let app = temporary.home.appDatabaseURL.path
        #expect(message.hasPrefix("error: the disk holding \(app) is full: "), "\(message)")
        #expect(message.contains("nothing of it was written or lost"))
        #expect(message.contains("Free space in \(home)"))
        #expect(message.contains("run the command again"))
        #expect(message.split(separator: "\n").count == 1)

        // What committed is whole: the progress row counts exactly the events in the outbox.
        let (events, outbox) = try await Store.openReadOnly(temporary.home, .app).read { db in
            (try Int.fetchOne(db, sql: "SELECT coalesce(sum(events), 0) FROM runnel_sample_loads") ?? -1,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_outbox") ?? -2)
        }
        #expect(events == outbox)

        // The advice: free space, run the command again.
        try FileManager.default.removeItem(at: filler)
        let (again, error) = try Self.child(load)
        #expect(again == 0, "\(error)")
        #expect(try Self.outbox(temporary.home) == Self.outbox(clean.home))
    }

    /// Every row of the sample's read views, as sorted text.
    static func views(_ home: RunnelHome) throws -> [String] {
        try Store.openReadOnly(home, .derived).read { db in
            try ["member_profiles", "member_engagement_5m", "profile_views_by_industry_1h", "member_sessions"].flatMap { name in
                try Row.fetchAll(db, sql: "SELECT * FROM \(name)").map { "\(name) \($0)" }
            }.sorted()
        }
    }

    @Test func aDamagedDerivedDatabaseIsNamedWithItsRebuildAndTheRebuildWorks() async throws {
        let temporary = try TemporaryHome(label: "damaged")
        let home = temporary.home.url.path
        #expect(await runnel("demo", "--home", home).status == 0)
        let views = try Self.views(temporary.home)
        #expect(!views.isEmpty)

        // Fold the WAL into the file, then overwrite the schema page after its 100-byte header.
        let derived = temporary.home.derivedDatabaseURL.path
        try await DatabaseQueue(path: derived).writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        let file = try #require(FileHandle(forUpdatingAtPath: derived))
        try file.seek(toOffset: 100)
        try file.write(contentsOf: Data(repeating: 0xA5, count: 4096 - 100))
        try file.close()

        for command in [["run", "--all"], ["inspect", "tables", "--db", "derived"]] {
            let result = await runnel(command + ["--home", home])
            #expect(result.status == 1)
            #expect(result.error.hasPrefix("error: \(derived) is damaged and cannot be read"), "\(command): \(result.error)")
            #expect(result.error.contains("move it aside (`mv \(derived) \(derived).damaged`) and run `runnel run --all` to rebuild it"))
        }

        // The advice, literally.
        try FileManager.default.moveItem(atPath: derived, toPath: derived + ".damaged")
        let rebuilt = await runnel("run", "--all", "--home", home)
        #expect(rebuilt.status == 0, "\(rebuilt.error)")
        #expect(try Self.views(temporary.home) == views)
    }
}
