#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A KV store's folder, `kv/<store>/`: its versions, the `CURRENT` pointer, and the steps that
/// build, switch, roll back and prune versions (guarantee 4 of `docs/guarantees.md`, `docs/kv-format.md`).
///
/// ```
/// kv/member-features/
///   CURRENT              "3\n": the version readers open
///   v2/ v3/              manifest.json + data.rkv, immutable once renamed into place
///   .build-4-8123/       a build in progress (or abandoned by a crash); readers never look here
///   LOCK                 held by the process building, switching or pruning
/// ```
///
/// A build writes and fsyncs a complete version in a dot-folder, renames it to `vN`, then
/// replaces `CURRENT` (written aside, fsynced, renamed): a crash at any point leaves the
/// previous version serving and no partial version visible.
package struct KVStoreFolder: Sendable, Hashable {
    /// The store's name.
    package let name: String
    /// The folder.
    package let url: URL

    /// The store `name` of a home.
    /// - Throws: ``RunnelError`` `.invalidArgument` for a name that is not allowed.
    package init(home: RunnelHome, name: String) throws {
        try Self.validate(name: name)
        try self.init(url: home.kvURL.appendingPathComponent(name, isDirectory: true))
    }

    /// The store in a folder (its name is the folder's).
    package init(url: URL) throws {
        let name = url.lastPathComponent
        try Self.validate(name: name)
        self.name = name
        self.url = url.standardizedFileURL
    }

    /// Checks a store name: 1 to 100 lower-case letters, digits, `-`, `_` or `.`, not starting
    /// with a dot.
    package static func validate(name: String) throws {
        guard isValid(name: name) else {
            throw RunnelError(.invalidArgument, "the KV store name \"\(name)\" is not allowed",
                              hint: "Use 1 to 100 lower-case letters, digits, '-', '_' or '.', not starting with '.'")
        }
    }

    private static func isValid(name: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-_.")
        return !name.isEmpty && name.count <= 100 && !name.hasPrefix(".") && name.allSatisfy(allowed.contains)
    }

    /// The stores of a home, by name: each folder of `kv/` named as a store is named and holds
    /// a `CURRENT` (even a damaged one, which opening it then reports) or a version.
    /// - Throws: ``RunnelError`` `.io` when a folder cannot be listed.
    package static func all(in home: RunnelHome) throws -> [KVStoreFolder] {
        try DurableFile.names(in: home.kvURL, missingIsEmpty: true).sorted().filter(isValid(name:)).map { try KVStoreFolder(home: home, name: $0) }
            .filter { store in
                if FileManager.default.fileExists(atPath: store.url.appendingPathComponent("CURRENT").path) { return true }
                return !(try store.versionNumbers()).isEmpty
            }
    }

    // MARK: - Versions

    /// The folder of version `number`.
    package func versionURL(_ number: Int) -> URL {
        url.appendingPathComponent("v\(number)", isDirectory: true)
    }

    /// The version `CURRENT` names, or nil before the first build.
    /// - Throws: ``RunnelError`` `.corruptKV` when `CURRENT` holds something else than a number.
    package func currentVersion() throws -> Int? {
        let pointer = url.appendingPathComponent("CURRENT")
        guard let data = FileManager.default.contents(atPath: pointer.path) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let number = Int(text), number >= 1 else {
            throw RunnelError(.corruptKV, "\(pointer.path) holds \"\(text.prefix(40))\", not a version number",
                              hint: "Point it at a kept version with `runnel kv rollback \(name) --to N`")
        }
        return number
    }

    /// The versions in the folder, oldest first (build folders in progress are not versions).
    package func versionNumbers() throws -> [Int] {
        let names = try DurableFile.names(in: url, missingIsEmpty: true)
        return names.compactMap { name in
            guard name.hasPrefix("v"), let number = Int(name.dropFirst()), number >= 1, "v\(number)" == name else { return nil }
            return number
        }.sorted()
    }

    /// The manifest of version `number`.
    package func manifest(of number: Int) throws -> KVManifest {
        try KVManifest.read(from: versionURL(number).appendingPathComponent("manifest.json"))
    }

    /// Maps version `number` for reading.
    package func open(version number: Int, verification: KVSnapshot.Verification = .onFirstTouch) throws -> KVSnapshot {
        guard FileManager.default.fileExists(atPath: versionURL(number).path) else {
            throw RunnelError(.kv, "KV store \(name) has no version \(number) in \(url.path)",
                              hint: "See the kept versions with `runnel kv versions \(name)`")
        }
        return try KVSnapshot(versionFolder: versionURL(number), verification: verification)
    }

    // MARK: - Building

    /// Builds a new version and makes it current: `fill` adds the keys to a writer in a build
    /// folder; the finished file and manifest are fsynced, the folder renamed to `vN`, and
    /// `CURRENT` switched. Then versions beyond the newest `keep` are deleted (never the
    /// current one).
    /// - Parameters:
    ///   - pipeline: The pipeline the data comes from, for the manifest.
    ///   - pipelineVersion: Its version.
    ///   - sourceOffsets: The log offsets the data reflects.
    ///   - keep: How many versions to keep, at least 1.
    ///   - fill: Adds the keys and values.
    /// - Returns: The new version's manifest.
    /// - Throws: ``RunnelError`` `.kv` when another process is changing the store; whatever
    ///   `fill` throws (the build folder is removed and the current version keeps serving).
    @discardableResult
    package func build(pipeline: String? = nil, pipelineVersion: Int? = nil, sourceOffsets: [KVManifest.SourceOffset] = [], keep: Int = 3,
                      _ fill: (KVDataFileWriter) throws -> Void) throws -> KVManifest {
        let started = DispatchTime.now()
        return try withLock {
            try removeAbandonedBuilds()
            let number = max(try versionNumbers().last ?? 0, try currentVersion() ?? 0) + 1
            let building = url.appendingPathComponent(".build-\(number)-\(getpid())", isDirectory: true)
            try FileManager.default.createDirectory(at: building, withIntermediateDirectories: true)
            do {
                let writer = try KVDataFileWriter(building.appendingPathComponent("data.rkv"))
                try fill(writer)
                let summary = try writer.finish()
                let elapsed = Int64((DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000)
                let manifest = KVManifest(store: name, version: number, pipeline: pipeline, pipelineVersion: pipelineVersion, sourceOffsets: sourceOffsets,
                                          keyCount: summary.keyCount, fileSize: summary.fileSize, sha256: summary.sha256,
                                          builtAt: Date(), buildMilliseconds: elapsed)
                let manifestFile = try DurableFile(building.appendingPathComponent("manifest.json"), create: true)
                try KVManifest.encoder.encode(manifest).withUnsafeBytes { try manifestFile.write($0, at: 0) }
                try manifestFile.sync()
                try DurableFile.syncFolder(building)
                guard rename(building.path, versionURL(number).path) == 0 else { throw DurableFile.error("rename", building) }
                try DurableFile.syncFolder(url)
                Self.pauseBeforeSwitch.reach()
                try point(at: number)
                try prune(keep: keep)
                return manifest
            } catch {
                // The build's own failure is the one to report; a build folder that stays is
                // removed by the next build (`removeAbandonedBuilds`) and is never a version.
                try? FileManager.default.removeItem(at: building)
                throw error
            }
        }
    }

    /// Switches `CURRENT` to a kept version, after checking it completely, and returns the
    /// versions before and after.
    /// - Parameter number: The version to serve; nil picks the newest one older than the current.
    /// - Throws: ``RunnelError`` `.kv` when there is no such version, `.corruptKV` when it is damaged.
    @discardableResult
    package func rollback(to number: Int? = nil) throws -> (from: Int?, to: Int) {
        try withLock {
            let current = try currentVersion()
            let kept = try versionNumbers()
            let target: Int
            if let number {
                guard kept.contains(number) else {
                    throw RunnelError(.kv, "KV store \(name) has no version \(number); it keeps \(kept.isEmpty ? "none" : kept.map { "v\($0)" }.joined(separator: ", "))",
                                      hint: "Pick one of the kept versions")
                }
                target = number
            } else {
                guard let older = kept.last(where: { $0 < (current ?? Int.max) }) else {
                    throw RunnelError(.kv, "KV store \(name) has no version older than the current v\(current.map(String.init) ?? "–") to roll back to",
                                      hint: "See the kept versions with `runnel kv versions \(name)`")
                }
                target = older
            }
            try KVSnapshot(versionFolder: versionURL(target), verification: .atOpen).verify()
            if target != current { try point(at: target) }
            return (current, target)
        }
    }

    /// Deletes versions beyond the newest `keep`, never the current one.
    /// - Returns: The versions deleted.
    @discardableResult
    func prune(keep: Int) throws -> [Int] {
        let current = try currentVersion()
        let kept = try versionNumbers()
        let doomed = kept.dropLast(max(1, keep)).filter { $0 != current }
        for number in doomed {
            // Renamed out of the versions' namespace first, so no reader opens a half-deleted one.
            let aside = url.appendingPathComponent(".delete-\(number)-\(getpid())", isDirectory: true)
            guard rename(versionURL(number).path, aside.path) == 0 else { throw DurableFile.error("rename", versionURL(number)) }
            try FileManager.default.removeItem(at: aside)
        }
        if !doomed.isEmpty { try DurableFile.syncFolder(url) }
        return Array(doomed)
    }

    /// Crash tests aim a kill between the rename to `vN` and the `CURRENT` switch, where the new
    /// version is complete and in place but must not be served yet (`FaultPoint`).
    static let pauseBeforeSwitch = FaultPoint("kv-after-rename-before-current")

    /// Build and delete folders left by a process that died.
    private func removeAbandonedBuilds() throws {
        let names = try DurableFile.names(in: url, missingIsEmpty: true)
        for name in names where name.hasPrefix(".build-") || name.hasPrefix(".delete-") {
            try FileManager.default.removeItem(at: url.appendingPathComponent(name))
        }
    }

    private func point(at number: Int) throws {
        try DurableFile.replace(url.appendingPathComponent("CURRENT"), with: Data("\(number)\n".utf8))
    }

    /// Runs `body` holding the store's lock, so two processes never build or switch at once.
    private func withLock<Result>(_ body: () throws -> Result) throws -> Result {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let lock = try DurableFile(url.appendingPathComponent("LOCK"), create: true)
        // A child process forked (by any thread of this process) just as a builder here let go
        // shares the lock file's descriptor until its exec closes it, and keeps the lock that
        // long: that passes in milliseconds. A builder that really holds it is still refused,
        // half a second later.
        var locked = try lock.tryLock()
        for _ in 0..<50 where !locked {
            usleep(10_000)
            locked = try lock.tryLock()
        }
        guard locked else {
            throw RunnelError(.kv, "KV store \(name) is being built or switched by another process (\(url.appendingPathComponent("LOCK").path) is locked)",
                              hint: "Wait for it to finish, then try again")
        }
        return try withExtendedLifetime(lock) { try body() }
    }
}
