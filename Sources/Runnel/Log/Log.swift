#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The file-segment log under a home's `log/` folder: topics of partitions of segments whose
/// files are byte-compatible with Kafka's (`docs/log-format.md`).
///
/// One process writes (it holds an exclusive lock on `log/.lock`); any number read, each with
/// its own read-only `Log`.
///
/// Applications hand it to the relay and the pipeline runner, which append and read:
///
/// ```swift
/// let log = try Log.open(store.home.logURL)
/// defer { try? log.close() }
/// let relay = try OutboxRelay(store: store, log: log)
/// try relay.drain()
/// ```
public final class Log: @unchecked Sendable {
    // @unchecked: `topics` and `lastFlush` are guarded by `lock`; partitions guard themselves.
    /// How appended batches reach the disk.
    public enum Durability: Sendable, Hashable {
        /// fsync after every append (or every group of appends, with ``Log/flush(force:)``).
        case everyBatch
        /// fsync at most this often, trading the last moments' data on a power cut for throughput.
        case interval(milliseconds: Int)
    }

    public let folder: URL
    public let isWritable: Bool
    public let durability: Durability
    /// What checking the tails at open found: after an unclean stop one entry per partition, after
    /// a clean one an entry for each partition whose tail was cut or refused.
    public private(set) var recoveryReports: [RecoveryReport] = []
    private let lockFile: DurableFile?
    private let lock = NSLock()
    private var topics: [String: LogTopic] = [:]
    private var lastFlush = Date()
    private let wasClean: Bool

    package static let lockName = ".lock"
    static let cleanShutdownName = ".clean-shutdown"

    private init(folder: URL, writable: Bool, durability: Durability, lockFile: DurableFile?, wasClean: Bool) {
        self.folder = folder
        isWritable = writable
        self.durability = durability
        self.lockFile = lockFile
        self.wasClean = wasClean
    }

    /// Opens the log for writing: takes the lock and checks each partition's tail, its last
    /// batch and everything past its recovery checkpoint (see ``recoveryReports``).
    /// - Throws: ``RunnelError`` with code `.logLocked` when another process writes this log.
    public static func open(_ folder: URL, durability: Durability = .everyBatch) throws -> Log {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let lockFile = try DurableFile(folder.appendingPathComponent(lockName), create: true)
        guard try lockFile.tryLock() else {
            let holder = (try? String(contentsOf: lockFile.url, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            throw RunnelError(.logLocked, "the log at \(folder.path) is already open for writing by another process (pid \(holder))",
                              hint: "Only one writer (relay) may run per home; stop the other one, or read with a read-only command")
        }
        try lockFile.truncate(to: 0)
        try Data("\(getpid())\n".utf8).withUnsafeBytes { try lockFile.write($0, at: 0) }
        let marker = folder.appendingPathComponent(cleanShutdownName)
        let clean = FileManager.default.fileExists(atPath: marker.path)
        if clean {
            try FileManager.default.removeItem(at: marker)
            try DurableFile.syncFolder(folder)
        }
        let log = Log(folder: folder, writable: true, durability: durability, lockFile: lockFile, wasClean: clean)
        try log.loadTopics()
        writers.withLock { $0[folder.standardizedFileURL.path] = WeakLog(log) }
        return log
    }

    /// The log this process has open for writing in `folder`, if it has one: what a job in the
    /// same process as the relay (`runnel up`) maintains instead of opening a second writer,
    /// which the lock would refuse.
    package static func openWriter(of folder: URL) -> Log? {
        writers.withLock { $0[folder.standardizedFileURL.path]?.log }
    }

    /// Writers open in this process, by folder; weak, so a log dropped without ``close()`` goes.
    private static let writers = Locked<[String: WeakLog]>([:])

    private final class WeakLog: @unchecked Sendable {
        // @unchecked: set once at creation; `weak` reads are atomic.
        weak var log: Log?
        init(_ log: Log) { self.log = log }
    }

    /// Opens the log for reading only: no lock, no recovery; partitions follow the files.
    public static func openForReading(_ folder: URL) throws -> Log {
        guard FileManager.default.fileExists(atPath: folder.path) else {
            throw RunnelError(.home, "no log at \(folder.path)", hint: "Run `runnel relay` to publish the outbox into the log")
        }
        let log = Log(folder: folder, writable: false, durability: .everyBatch, lockFile: nil, wasClean: true)
        try log.loadTopics()
        return log
    }

    private func loadTopics() throws {
        let names = try DurableFile.names(in: folder)
        // Every folder with a topic.json is a topic, dot-names included; the log's own files
        // (`.lock`, `.clean-shutdown`) have none.
        for name in names.sorted() {
            let configurationURL = folder.appendingPathComponent(name).appendingPathComponent(LogTopic.configurationFile)
            guard FileManager.default.fileExists(atPath: configurationURL.path) else { continue }
            let topic = try LogTopic.open(name: name, folder: folder.appendingPathComponent(name), writable: isWritable, clean: wasClean)
            recoveryReports += topic.recoveryReports
            topics[name] = topic
        }
    }

    // MARK: - Topics

    /// The names of every topic, sorted.
    public var topicNames: [String] { lock.withLock { topics.keys.sorted() } }

    /// A topic, if it exists (for read-only logs, also if it appeared since opening).
    package func topic(_ name: String) throws -> LogTopic? {
        if let topic = lock.withLock({ topics[name] }) { return topic }
        guard !isWritable else { return nil }
        let url = folder.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent(LogTopic.configurationFile).path) else { return nil }
        let topic = try LogTopic.open(name: name, folder: url, writable: false, clean: true)
        lock.withLock { topics[name] = topic }
        return topic
    }

    /// Creates a topic.
    /// - Throws: ``RunnelError`` when the name is invalid, the settings are, or the topic exists.
    @discardableResult
    package func createTopic(_ name: String, _ configuration: TopicConfiguration = TopicConfiguration()) throws -> LogTopic {
        precondition(isWritable, "createTopic on a read-only log")
        try TopicName.validate(name)
        try configuration.validate()
        return try lock.withLock {
            guard topics[name] == nil else {
                throw RunnelError(.invalidArgument, "topic \(name) already exists with \(topics[name]!.configuration.partitions) partitions",
                                  hint: "Partition counts are fixed at creation; `runnel log describe \(name)` shows its settings")
            }
            let topic = try LogTopic.create(name: name, folder: folder.appendingPathComponent(name), configuration: configuration)
            try DurableFile.syncFolder(folder)
            topics[name] = topic
            return topic
        }
    }

    /// Every partition of every topic, in topic order: what log maintenance walks.
    package func partitions() throws -> [PartitionLog] {
        try topicNames.compactMap { try topic($0) }.flatMap(\.partitions)
    }

    /// A topic, created with `defaults` when it does not exist yet.
    package func topic(_ name: String, creatingWith defaults: TopicConfiguration) throws -> LogTopic {
        if let topic = try topic(name) { return topic }
        return try createTopic(name, defaults)
    }

    // MARK: - Appending

    /// Appends records to a topic, each to the partition its key picks (Kafka's default
    /// partitioner), records without a key by `roundRobin`; one batch per partition.
    /// - Returns: Per partition used, the offset of its first record.
    @discardableResult
    package func append(_ records: [LogRecord], to topicName: String, roundRobin: Int = 0) throws -> [Int: Int64] {
        guard let topic = try topic(topicName) else {
            throw RunnelError(.notFound, "no topic \(topicName) in \(folder.path)", hint: "Create it with `runnel log create \(topicName)`")
        }
        var groups: [Int: [LogRecord]] = [:]
        for (index, record) in records.enumerated() {
            groups[topic.partition(for: record.key, sequence: roundRobin + index), default: []].append(record)
        }
        var placed: [Int: Int64] = [:]
        for (partition, group) in groups.sorted(by: { $0.key < $1.key }) {
            placed[partition] = try topic.partitions[partition].append(group)
        }
        if durability == .everyBatch { try flush() }
        return placed
    }

    /// Fsyncs every partition with unsynced appends (the group commit of a relay cycle).
    /// Under `.interval`, does so only when the interval has passed.
    public func flush(force: Bool = false) throws {
        // Readers in this process wake now; other processes see the write through their watcher.
        defer { LogAppendNotices.post(folder) }
        if case .interval(let milliseconds) = durability, !force, Date().timeIntervalSince(lock.withLock { lastFlush }) * 1000 < Double(milliseconds) {
            return
        }
        for topic in lock.withLock({ Array(topics.values) }) {
            for partition in topic.partitions { try partition.flush() }
        }
        lock.withLock { lastFlush = Date() }
    }

    /// Flushes everything, records recovery checkpoints and the clean-shutdown marker, and
    /// releases the lock. The next open then checks only each partition's last batch. Nothing
    /// may be appended after closing.
    public func close() throws {
        guard isWritable else { return }
        for topic in lock.withLock({ Array(topics.values) }) {
            for partition in topic.partitions { try partition.close() }
        }
        try DurableFile.replace(folder.appendingPathComponent(Self.cleanShutdownName), with: Data())
        Self.writers.withLock { writers in
            if writers[folder.standardizedFileURL.path]?.log === self { writers[folder.standardizedFileURL.path] = nil }
        }
        try lockFile?.unlock()
    }
}

/// A topic: its settings and partitions.
package final class LogTopic: Sendable {
    static let configurationFile = "topic.json"
    /// The most partitions of a topic opened at once.
    static let openThreads = 16
    package let name: String
    package let configuration: TopicConfiguration
    package let partitions: [PartitionLog]
    let recoveryReports: [RecoveryReport]

    private init(name: String, configuration: TopicConfiguration, partitions: [PartitionLog], reports: [RecoveryReport]) {
        self.name = name
        self.configuration = configuration
        self.partitions = partitions
        recoveryReports = reports
    }

    static func create(name: String, folder: URL, configuration: TopicConfiguration) throws -> LogTopic {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try DurableFile.replace(folder.appendingPathComponent(configurationFile), with: try encoder.encode(configuration))
        return try open(name: name, folder: folder, writable: true, clean: true)
    }

    static func open(name: String, folder: URL, writable: Bool, clean: Bool) throws -> LogTopic {
        let url = folder.appendingPathComponent(configurationFile)
        let configuration: TopicConfiguration
        do {
            configuration = try JSONDecoder().decode(TopicConfiguration.self, from: Data(contentsOf: url))
        } catch {
            throw RunnelError(.corruptLog, "cannot read the settings of topic \(name) at \(url.path): \(error)",
                              hint: "Restore topic.json; its partition count must match the folders beside it")
        }
        do {
            try configuration.validate()
        } catch let error as RunnelError {
            throw RunnelError(.corruptLog, "the settings of topic \(name) at \(url.path) are invalid: \(error.message)",
                              hint: "Fix topic.json: \(error.hint ?? "see docs/log-format.md for the limits")")
        }
        // Partitions open side by side, as Kafka's recovery threads do: each checks its own
        // tail and fsyncs its own files, so their reads and fsyncs overlap, on a thread each
        // (up to a limit) rather than one per core, as they mostly wait for the disk. The first
        // failure, by partition, is the one thrown.
        let opened = Locked([Result<(PartitionLog, RecoveryReport?), any Error>?](repeating: nil, count: configuration.partitions))
        ParallelThreads.forEach(configuration.partitions, limit: Self.openThreads) { index in
            let result = Result {
                try PartitionLog.open(topic: name, partition: index, folder: folder.appendingPathComponent(String(index)),
                                      configuration: configuration, writable: writable, clean: clean)
            }
            opened.withLock { $0[index] = result }
        }
        var partitions: [PartitionLog] = []
        var reports: [RecoveryReport] = []
        for result in opened.withLock({ $0 }) {
            guard let result else { preconditionFailure("a partition of topic \(name) was not opened") }
            let (partition, report) = try result.get()
            partitions.append(partition)
            if let report { reports.append(report) }
        }
        return LogTopic(name: name, configuration: configuration, partitions: partitions, reports: reports)
    }

    /// The partition of a record: Kafka's murmur2 partitioner for a key, `sequence` modulo the
    /// partition count without one (callers pass something stable, such as an outbox id, so a
    /// retry lands where the first attempt did).
    package func partition(for key: [UInt8]?, sequence: Int) -> Int {
        guard let key else { return sequence % partitions.count }
        return Murmur2.partition(forKey: key, partitions: partitions.count)
    }
}
