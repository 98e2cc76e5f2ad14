import Foundation
import GRDB
import Logging

/// Runs one pipeline over the log: reads a batch of records from its checkpoint, passes them
/// through the stages, and commits sink rows, operator state, dead letters, late events, input
/// offsets and event times in one `derived.sqlite` transaction (guarantee 3 of `docs/guarantees.md`). A crash anywhere
/// replays the batch from the stored offsets, against the stored state, to the same answer.
///
/// ```swift
/// let runner = try PipelineRunner(pipeline: engagement, store: store, log: try Log.openForReading(store.home.logURL))
/// let summary = try runner.runToEnd()      // batch mode: to the log's current end, then stop
/// ```
///
/// A runner is used from one thread at a time. After an error it must be thrown away: its
/// in-memory state may be ahead of what was committed; a new runner starts from the commit.
///
/// One runner per pipeline at a time (`docs/pipelines.md`, "One runner per pipeline"): a runner
/// holds the pipeline's `RunnerLock` for its whole life, so a second one is refused with the
/// holder's pid; and every commit checks, in its transaction, that the pipeline's commit
/// generation is still the one this runner loaded, so a runner that got past the lock (or whose
/// state was rebuilt from under it) can never commit a batch over another's.
public final class PipelineRunner {
    /// How a runner gets the pipeline's one-runner lock.
    package enum Locking: Sendable {
        /// Take it (refused when another runner holds it).
        case acquire
        /// Use one the caller took (`runnel run` takes every pipeline's before it starts).
        case held(RunnerLock)
        /// Run without it. Only for tests that prove the commit check alone keeps two runners
        /// from both committing.
        case unlocked
    }

    /// How a runner reads.
    public struct Options: Sendable {
        /// Records read per batch (and so per transaction), across all inputs.
        public var batchSize: Int
        /// Drop the pipeline's views and state first and replay the log from offset 0.
        public var rebuild: Bool
        /// In follow mode, how often a KV store with new entries is published as a new version
        /// (batch mode publishes once, at the end of the run).
        public var kvPublishInterval: Duration
        /// Go on past a gap in the log (offsets no segment holds, after a lost segment) at its end,
        /// recording the skip in `runnel_pipeline_skipped_gaps` with the batch. Without it a
        /// run stops at the gap with its `.logGap` error, after committing what came before.
        public var skipGaps: Bool

        public init(batchSize: Int = 100_000, rebuild: Bool = false, kvPublishInterval: Duration = .seconds(30), skipGaps: Bool = false) {
            self.batchSize = batchSize
            self.rebuild = rebuild
            self.kvPublishInterval = kvPublishInterval
            self.skipGaps = skipGaps
        }
    }

    /// What one batch did.
    public struct BatchSummary: Sendable {
        /// Records read from the log.
        public var records = 0
        /// Records sent to the dead-letter table.
        public var deadLetters = 0
        /// Events sent to the late table.
        public var lateEvents = 0
        /// Records no source took: of event types no source reads, or tombstones.
        public var skipped = 0
        /// ``skipped`` by the record's `type` header (`""` for a record without one,
        /// `(tombstone)` for a tombstone of a type a source reads).
        public var skippedByType: [String: Int] = [:]
        /// Events dropped as the pipeline says: duplicates, and missing lookup rows with
        /// `ifMissing: .drop`.
        public var dropped = 0
    }

    /// What a run to the end of the log did.
    public struct RunSummary: Sendable {
        public var batches = 0
        public var records = 0
        public var deadLetters = 0
        public var lateEvents = 0
        public var skipped = 0
        /// ``skipped`` by event type, as in ``BatchSummary/skippedByType``.
        public var skippedByType: [String: Int] = [:]
        public var dropped = 0
        /// Sources that took no record in the whole run though their topic had records: a
        /// type string that matches nothing, most likely (see ``skippedByType`` for the
        /// types the topic held).
        public var idleSources: [SourceDescription] = []
        /// Records that retention deleted before the pipeline read them.
        public var recordsLostToRetention: Int64 = 0
        /// The KV store versions the run published.
        public var published: [KVManifest] = []

        mutating func add(_ batch: BatchSummary) {
            batches += 1
            records += batch.records
            deadLetters += batch.deadLetters
            lateEvents += batch.lateEvents
            skipped += batch.skipped
            skippedByType.merge(batch.skippedByType, uniquingKeysWith: +)
            dropped += batch.dropped
        }
    }

    /// A source as runs report it: the topic it reads and the event type it accepts.
    public struct SourceDescription: Sendable, Hashable, CustomStringConvertible {
        public var topic: String
        /// The `type` header it accepts; nil accepts every record.
        public var type: String?
        public var description: String { "Source(\"\(topic)\"" + (type.map { ", type: \"\($0)\")" } ?? ")") }
    }

    /// The type a skipped tombstone is counted under in ``BatchSummary/skippedByType``.
    package static let tombstoneType = "(tombstone)"

    public let pipeline: Pipeline
    public let store: Store
    /// Where the pipeline reads: the home's log, or (RunnelKafka) a Kafka cluster.
    public let source: RecordSource
    public let options: Options
    private let graph: PipelineGraph
    private let logger: Logger
    /// The source partition of each input.
    private var partitions: [any SourcePartition] = []
    /// The bindings fed by each input.
    private var bindingsOfInput: [[Int]] = []
    /// Records each source (by its position among the graph's bindings) took since the
    /// runner started: a source at zero after a run that read its topic took nothing.
    private var takenBySource: [Int] = []
    /// Saved offsets and event times of inputs not opened yet (their topic has no log yet).
    private var savedInputs: [String: (next: Int64, time: Int64?)] = [:]
    /// The topics the pipeline reads, in the order it binds them, and how many have a log yet.
    private let boundTopics: [String]
    private var openedTopics = 0
    private var nextInput = 0
    private var pendingCommit = false
    private var lostToRetention: Int64 = 0
    /// Gaps skipped in the batch in hand (``Options/skipGaps``), written with its commit.
    private var skippedGaps: [(topic: String, partition: Int, gap: LogGap)] = []
    /// The pipeline's lock, held for the runner's life (nil only when run `.unlocked`).
    private let lock: RunnerLock?
    /// The commit generation of the state this runner loaded or last committed; a commit
    /// whose stored generation differs was preceded by another runner's, and is refused.
    private var generation: Int64 = 0
    /// Whether the pipeline is replaying the log after a rebuild dropped its state (recorded in
    /// `runnel_pipelines.rebuild_started_at` until a run first reaches the log's end).
    package private(set) var isRebuilding = false
    /// Made once per runner, fed once per commit.
    private let metrics: PipelineMetrics
    /// The metrics of each KV store the pipeline writes, made once with the runner.
    private let kvMetrics: [String: KVStoreMetrics]

    /// Opens a pipeline's state: checks its version against the saved one, creates its read
    /// views, and loads its offsets and operator state.
    /// Takes the pipeline's lock for the runner's life.
    /// - Throws: ``RunnelError`` `.concurrentRunner` when another runner (another process, or
    ///   another runner in this one) runs the pipeline, naming its pid; `.pipelineVersion` when
    ///   the saved state was built by another version (the message says to rebuild); `.pipeline`
    ///   for a definition that does not hold together; `.database` when `derived.sqlite` fails.
    public convenience init(pipeline: Pipeline, store: Store, log: Log, options: Options = Options(), logger: Logger = Logger(label: "runnel.pipeline")) throws {
        try self.init(pipeline: pipeline, store: store, source: .log(log), options: options, logger: logger, locking: .acquire)
    }

    /// Opens a pipeline over a source: some partitions of the log, or a Kafka cluster's topics.
    /// Takes the pipeline's lock for the runner's life.
    /// - Throws: As ``init(pipeline:store:log:options:logger:)``, and `.pipeline` when the
    ///   pipeline's state was read from another source (its offsets would mean other records).
    public convenience init(pipeline: Pipeline, store: Store, source: RecordSource, options: Options = Options(), logger: Logger = Logger(label: "runnel.pipeline")) throws {
        try self.init(pipeline: pipeline, store: store, source: source, options: options, logger: logger, locking: .acquire)
    }

    /// Opens a pipeline, with its lock taken as `locking` says.
    package init(pipeline: Pipeline, store: Store, source: RecordSource, options: Options, logger: Logger, locking: Locking) throws {
        try pipeline.validate()
        self.pipeline = pipeline
        self.store = store
        self.source = source
        self.options = options
        self.logger = logger
        metrics = PipelineMetrics(pipeline: pipeline.name)
        switch locking {
        case .acquire: lock = try RunnerLock.acquire(.pipeline, named: pipeline.name, in: store.home)
        case .held(let held):
            precondition(held.role == .pipeline && held.name == pipeline.name, "the lock of \(held.role.noun) \(held.name) cannot run pipeline \(pipeline.name)")
            lock = held
        case .unlocked: lock = nil
        }
        graph = try PipelineGraph(pipeline: pipeline, store: store)
        kvMetrics = Dictionary(uniqueKeysWithValues: graph.kvStores.keys.map { ($0, KVStoreMetrics(store: $0)) })
        takenBySource = Array(repeating: 0, count: graph.bindings.count)
        var topics: [String] = []
        for binding in graph.bindings where !topics.contains(binding.topic) { topics.append(binding.topic) }
        boundTopics = topics
        if options.rebuild { try Self.dropStateHoldingLock(of: pipeline, in: store) }
        try prepare()
    }

    /// Opens a pipeline over the home's log, read-only, as a process beside the relay does
    /// (the log folder is made if nothing was relayed yet, so the pipeline starts empty).
    /// Takes the pipeline's lock for the runner's life.
    public convenience init(pipeline: Pipeline, store: Store, options: Options = Options(), logger: Logger = Logger(label: "runnel.pipeline")) throws {
        try self.init(pipeline: pipeline, store: store, options: options, logger: logger, locking: .acquire)
    }

    /// Opens a pipeline over the home's log, read-only, with its lock taken as `locking` says.
    package convenience init(pipeline: Pipeline, store: Store, options: Options, logger: Logger, locking: Locking) throws {
        try FileManager.default.createDirectory(at: store.home.logURL, withIntermediateDirectories: true)
        try self.init(pipeline: pipeline, store: store, source: .log(try Log.openForReading(store.home.logURL)), options: options, logger: logger, locking: locking)
    }

    // MARK: - State

    /// Drops a pipeline's read views, state, offsets, dead letters and late events, so its next
    /// run replays the log from offset 0, and records that it is rebuilding until a run first
    /// reaches the log's end (`runnel pipelines` shows it as rebuilding meanwhile).
    /// - Throws: ``RunnelError`` `.concurrentRunner` when a runner of the pipeline is running
    ///   (it holds the pipeline's lock); `.database` when `derived.sqlite` fails.
    public static func dropState(of pipeline: Pipeline, in store: Store) throws {
        try pipeline.validate()
        let lock = try RunnerLock.acquire(.pipeline, named: pipeline.name, in: store.home)
        try withExtendedLifetime(lock) { try dropStateHoldingLock(of: pipeline, in: store) }
    }

    /// Drops a pipeline's state (see ``dropState(of:in:)``) under a lock the caller holds.
    package static func dropState(of pipeline: Pipeline, in store: Store, holding lock: RunnerLock) throws {
        precondition(lock.role == .pipeline && lock.name == pipeline.name, "the lock of \(lock.role.noun) \(lock.name) cannot rebuild pipeline \(pipeline.name)")
        try dropStateHoldingLock(of: pipeline, in: store)
    }

    private static func dropStateHoldingLock(of pipeline: Pipeline, in store: Store) throws {
        try RunnelError.naming(store.derived.path, "dropping the views and state of pipeline \(pipeline.name) for a rebuild") {
            try store.derived.write { db in try dropState(of: pipeline, db) }
        }
    }

    private static func dropState(of pipeline: Pipeline, _ db: Database) throws {
        let saved = try Row.fetchOne(db, sql: "SELECT generation, topics FROM runnel_pipelines WHERE name = ?", arguments: [pipeline.name])
        let generation: Int64 = saved?["generation"] ?? 0
        for view in try String.fetchAll(db, sql: "SELECT view FROM runnel_view_owners WHERE pipeline = ?", arguments: [pipeline.name]) {
            try db.execute(sql: "DROP TABLE IF EXISTS \(SQLIdentifier.quoted(view))")
        }
        try db.execute(sql: "DELETE FROM runnel_view_owners WHERE pipeline = ?", arguments: [pipeline.name])
        for table in ["runnel_pipeline_state", "runnel_pipeline_offsets"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE pipeline = ?", arguments: [pipeline.name])
        }
        for table in ["runnel_pipeline_dead_letters", "runnel_pipeline_late_events", "runnel_pipeline_skipped_types"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE pipeline = ?", arguments: [pipeline.name])
        }
        // The KV stores' entries go; their published versions stay on disk for rollback,
        // and the rebuilt entries are published as a new version.
        try db.execute(sql: "DELETE FROM runnel_kv_entries WHERE store IN (SELECT name FROM runnel_kv_stores WHERE pipeline = ?)", arguments: [pipeline.name])
        try db.execute(sql: "DELETE FROM runnel_kv_stores WHERE pipeline = ?", arguments: [pipeline.name])
        try db.execute(sql: "DELETE FROM runnel_pipelines WHERE name = ?", arguments: [pipeline.name])
        // The row comes back at once, marked as rebuilding and with the next generation, so a
        // runner that loaded the old state can no longer commit over the rebuilt one; its
        // topics stay, so the lag of the replay can be told before its first commit.
        let now = Date().millisecondsSince1970
        try db.execute(sql: """
            INSERT INTO runnel_pipelines (name, version, description, topics, created_at, updated_at, generation, rebuild_started_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [pipeline.name, pipeline.version, pipeline.description, (saved?["topics"] as String?) ?? "", now, now, generation + 1, now])
    }

    private func prepare() throws {
        let name = pipeline.name
        let views = graph.views.values.sorted { $0.name < $1.name }
        try RunnelError.naming(store.derived.path, "loading the state of pipeline \(name)") {
            try store.derived.write { db in try prepare(db, views: views) }
        }
    }

    private func prepare(_ db: Database, views: [ReadViewTable]) throws {
        let name = pipeline.name
        let saved = try Row.fetchOne(db, sql: "SELECT version, shape, source FROM runnel_pipelines WHERE name = ?", arguments: [name])
        if let saved, (saved["version"] as Int) != pipeline.version {
            throw RunnelError(.pipelineVersion,
                              "pipeline \(name) is now version \(pipeline.version), but its views and state in derived.sqlite were built by version \(saved["version"] as Int)",
                              hint: "Run `runnel run \(name) --rebuild` to drop them and replay the log from offset 0")
        }
        // Offsets read from one log mean other records in another (the file log and a Kafka
        // cluster, two clusters): state built from one source never goes on from another.
        let identity = source.reader.identity
        let from = saved.map { ($0["source"] as String?) ?? "log" }
        if let from, from != identity,
           try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM runnel_pipeline_offsets WHERE pipeline = ?)", arguments: [name]) == true {
            throw RunnelError(.pipeline,
                              "pipeline \(name) read its views and state in derived.sqlite from \(from), and is now asked to go on from \(identity): its stored offsets would mean other records there",
                              hint: "Run `runnel run \(name) --rebuild` with the new source to replay it from offset 0, or run it from \(from) as before")
        }
        let shape = graph.shape
        if let savedShape = saved?["shape"] as String?, let change = Self.change(from: savedShape.split(separator: "\n").map(String.init), to: shape) {
            throw RunnelError(.pipelineVersion,
                              "pipeline \(name) changed since its views and state in derived.sqlite were built, but is still version \(pipeline.version): \(change)",
                              hint: "Give it version \(pipeline.version + 1) and run `runnel run \(name) --rebuild` to replay the log into the new shape; "
                                  + "to keep the state as it is, undo the change")
        }
        for view in views {
            let owner = try String.fetchOne(db, sql: "SELECT pipeline FROM runnel_view_owners WHERE view = ?", arguments: [view.name])
            if let owner, owner != name {
                throw RunnelError(.pipeline, "read view \(view.name) of pipeline \(name) is already written by pipeline \(owner)",
                                  hint: "Give one of them another view name (view names ignore case, as SQLite's table names do)")
            }
            if owner == nil, try db.tableExists(view.name) {
                throw RunnelError(.pipeline, "pipeline \(name) would create read view \(view.name), but derived.sqlite already has a table of that name that no pipeline owns",
                                  hint: "Drop or rename that table, or choose another view name")
            }
            try view.prepare(db, pipeline: name)
            try db.execute(sql: "INSERT OR IGNORE INTO runnel_view_owners (view, pipeline) VALUES (?, ?)", arguments: [view.name, name])
        }
        for kv in graph.kvStores.values.sorted(by: { $0.name < $1.name }) {
            if let owner = try String.fetchOne(db, sql: "SELECT pipeline FROM runnel_kv_stores WHERE name = ?", arguments: [kv.name]), owner != name {
                throw RunnelError(.pipeline, "KV store \(kv.name) of pipeline \(name) is already written by pipeline \(owner)",
                                  hint: "Give one of them another store name")
            }
            try db.execute(sql: """
                INSERT INTO runnel_kv_stores (name, pipeline, keep) VALUES (?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET keep = excluded.keep
                """, arguments: [kv.name, name, kv.keep])
        }
        let now = Date().millisecondsSince1970
        // The topics are kept so `runnel pipelines` can tell the lag of a pipeline that has
        // not committed an offset yet.
        try db.execute(sql: """
            INSERT INTO runnel_pipelines (name, version, description, topics, shape, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (name) DO UPDATE SET description = excluded.description, topics = excluded.topics, shape = excluded.shape, source = excluded.source
            """, arguments: [name, pipeline.version, pipeline.description, boundTopics.joined(separator: ","), shape.joined(separator: "\n"), identity, now, now])
        let bookkeeping = try Row.fetchOne(db, sql: "SELECT generation, rebuild_started_at FROM runnel_pipelines WHERE name = ?", arguments: [name])
        generation = bookkeeping?["generation"] ?? 0
        isRebuilding = (bookkeeping?["rebuild_started_at"] as Int64?) != nil
        let offsets = try Row.fetchAll(db, sql: "SELECT topic, partition, next_offset, max_event_time FROM runnel_pipeline_offsets WHERE pipeline = ?", arguments: [name])
        for row in offsets {
            savedInputs["\(row["topic"] as String)/\(row["partition"] as Int)"] = (row["next_offset"], row["max_event_time"])
        }
        try openInputs()
        for op in graph.operators { try op.restore(db, graph: graph) }
    }

    /// What changed between two shapes of a pipeline (``PipelineGraph/shape``), said line by
    /// line; nil when they are the same.
    static func change(from saved: [String], to current: [String]) -> String? {
        guard saved != current else { return nil }
        let gone = saved.filter { !current.contains($0) }, new = current.filter { !saved.contains($0) }
        var parts = gone.map { "was \"\($0)\"" } + new.map { "now \"\($0)\"" }
        if parts.isEmpty { parts = ["its stages are in another order"] }
        return parts.joined(separator: "; ")
    }

    /// Opens the partitions of every bound topic that has a log, in the order the pipeline
    /// binds them; topics that appear later are added when they do.
    private func openInputs() throws {
        for topicName in boundTopics {
            guard !graph.inputs.contains(where: { $0.topic == topicName }), let found = try source.reader.partitions(of: topicName) else { continue }
            openedTopics += 1
            for partition in found {
                let saved = savedInputs["\(topicName)/\(partition.partition)"]
                graph.inputs.append(.init(topic: topicName, partition: partition.partition, nextOffset: saved?.next ?? 0, maxEventTime: saved?.time))
                partitions.append(partition)
                bindingsOfInput.append(graph.bindings.indices.filter { graph.bindings[$0].topic == topicName })
            }
        }
    }

    // MARK: - Running

    /// How many records are left between the pipeline's offsets and the log's end.
    public func backlog() throws -> Int64 {
        try refresh()
        return zip(graph.inputs, partitions).reduce(0) { $0 + max(0, $1.1.endOffset - $1.0.nextOffset) }
    }

    /// The folders whose changes can give the pipeline work: the log's (a topic appears), its
    /// topics' (a topic's partitions appear) and its partitions' (segments grow and roll).
    /// The list grows as topics appear; followers watch it.
    package var inputFolders: [URL] {
        source.reader.watchedFolders(topics: boundTopics, partitions: partitions)
    }

    /// Whether the pipeline writes KV stores (whose versions its follower publishes).
    package var writesKVStores: Bool { !graph.kvStores.isEmpty }

    /// Picks up segments the relay wrote since the last look, and topics that appeared.
    public func refresh() throws {
        if openedTopics < boundTopics.count { try openInputs() }
        for partition in partitions { try partition.refresh() }
    }

    /// Reads and commits one batch (up to ``Options/batchSize`` records).
    /// - Parameter committing: false processes the batch and throws the result away, as a
    ///   restart before the commit would (for restart tests); the runner must not be used
    ///   afterwards.
    /// - Returns: What the batch did; `records` is 0 when the pipeline is at the log's end.
    @discardableResult
    public func runBatch(committing: Bool = true) throws -> BatchSummary {
        let started = ContinuousClock.now
        try refresh()
        var summary = BatchSummary()
        var budget = options.batchSize
        // A gap not to be skipped: what was read before it is committed, then the run stops.
        var stoppedAt: RunnelError?
        let count = graph.inputs.count
        for step in 0..<count where budget > 0 {
            let index = (nextInput + step) % count
            let partition = partitions[index]
            var next = graph.inputs[index].nextOffset
            if next < partition.startOffset {
                lostToRetention += partition.startOffset - next
                logger.warning("retention deleted records before the pipeline read them", metadata: [
                    "pipeline": "\(pipeline.name)", "pipeline.topic": "\(partition.topic)", "pipeline.partition": "\(partition.partition)",
                    "pipeline.records_lost": "\(partition.startOffset - next)",
                ])
                next = partition.startOffset
            }
            let end = partition.endOffset
            if next > end { stoppedAt = aheadOfLog(next, partition) }
            // The input's sources, looked up once here rather than for every record.
            let sources = bindingsOfInput[index].map { (index: $0, binding: graph.bindings[$0]) }
            var taken = Array(repeating: 0, count: sources.count)
            graph.currentInput = index
            defer {
                graph.current = nil
                for (position, source) in sources.enumerated() { takenBySource[source.index] += taken[position] }
            }
            while budget > 0, next < end {
                let before = next
                do {
                    next = try partition.read(from: next) { record in
                        try process(record, input: index, sources: sources, taken: &taken, summary: &summary)
                        budget -= 1
                        return budget > 0
                    }
                } catch let error as RunnelError where error.code == .logGap {
                    guard let gap = partition.gaps.first(where: { $0.contains(next) }) else { throw error }
                    guard options.skipGaps else {
                        stoppedAt = error
                        break
                    }
                    logger.warning("skipped a gap in the log", metadata: [
                        "pipeline": "\(pipeline.name)", "pipeline.topic": "\(partition.topic)", "pipeline.partition": "\(partition.partition)",
                        "pipeline.gap.first_offset": "\(gap.firstOffset)", "pipeline.gap.records": "\(gap.count)",
                    ])
                    skippedGaps.append((partition.topic, partition.partition, gap))
                    pendingCommit = true
                    next = gap.endOffset
                }
                if next == before { break }
            }
            graph.inputs[index].nextOffset = next
            if stoppedAt != nil { break }
        }
        nextInput = count == 0 ? 0 : (nextInput + 1) % count
        summary.deadLetters = graph.deadLetters.count
        summary.lateEvents = graph.lateEvents.count
        summary.dropped = graph.dropped
        graph.dropped = 0
        // Caught up after a rebuild: the first time a follower has nothing left to read.
        let finishesRebuild = isRebuilding && zip(graph.inputs, partitions).allSatisfy { $0.0.nextOffset >= $0.1.endOffset }
        if committing, summary.records > 0 || pendingCommit || finishesRebuild {
            try commit(summary, finishingRebuild: finishesRebuild)
            metrics.batchTook(ContinuousClock.now - started)
        }
        if let stoppedAt { throw stoppedAt }
        return summary
    }

    /// The error for an input whose committed offset is past its partition's end: offsets this
    /// pipeline read are gone from the log, and new records would get them again.
    private func aheadOfLog(_ next: Int64, _ partition: any SourcePartition) -> RunnelError {
        RunnelError(.logGap,
                    "pipeline \(pipeline.name) has read \(partition.topic)/\(partition.partition) up to offset \(next), but the log there now ends at offset \(partition.endOffset): records it read are gone from \(partition.location) (a lost last segment, a deleted topic folder, or a tail cut after a crash), and new records would get their offsets again and be skipped",
                    hint: "Rebuild the pipeline from the log as it is now: `runnel run \(pipeline.name) --rebuild`")
    }

    /// Runs batches until the pipeline reaches the end the log had when the run began (batch
    /// mode), closing the windows the watermark allows at every commit.
    /// - Parameter progress: Called after each batch with the records done and the total.
    public func runToEnd(progress: ((Int64, Int64) -> Void)? = nil) throws -> RunSummary {
        try refresh()
        if let ahead = zip(graph.inputs, partitions).first(where: { $0.0.nextOffset > $0.1.endOffset }) {
            throw aheadOfLog(ahead.0.nextOffset, ahead.1)
        }
        let targets = partitions.map(\.endOffset)
        let starts = graph.inputs.map(\.nextOffset)
        let takenBefore = takenBySource
        let total = zip(graph.inputs, targets).reduce(Int64(0)) { $0 + max(0, $1.1 - $1.0.nextOffset) }
        var summary = RunSummary()
        var done: Int64 = 0
        while zip(graph.inputs, targets).contains(where: { $0.0.nextOffset < $0.1 }) {
            let batch = try runBatch()
            if batch.records == 0 { break }
            summary.add(batch)
            done += Int64(batch.records)
            progress?(min(done, total), total)
        }
        // Reaching the end the log had when the run began completes a rebuild in batch mode.
        if pendingCommit || isRebuilding { try commit(BatchSummary(), finishingRebuild: isRebuilding) }
        // A source whose topic had records in this run but that took none of them.
        let readTopics = Set(zip(graph.inputs, starts).filter { $0.0.nextOffset > $0.1 }.map(\.0.topic))
        summary.idleSources = graph.bindings.indices.filter { takenBySource[$0] == takenBefore[$0] && readTopics.contains(graph.bindings[$0].topic) }
            .map { SourceDescription(topic: graph.bindings[$0].topic, type: graph.bindings[$0].type.map { String(decoding: $0, as: UTF8.self) }) }
        summary.recordsLostToRetention = lostToRetention
        summary.published = try publishKVStores()
        return summary
    }

    /// Publishes each KV store the pipeline writes whose entries changed since its last
    /// version (or that has no version on disk), as a new version made current.
    /// - Returns: The new versions' manifests.
    @discardableResult
    public func publishKVStores() throws -> [KVManifest] {
        var published: [KVManifest] = []
        for name in graph.kvStores.keys.sorted() {
            if let manifest = try KVPublisher.publish(name, from: store, onlyIfChanged: true, metrics: kvMetrics[name]) {
                logger.info("kv store published", metadata: [
                    "pipeline": "\(pipeline.name)", "kv.store": "\(name)", "kv.version": "\(manifest.version)", "kv.keys": "\(manifest.keyCount)",
                ])
                published.append(manifest)
            }
        }
        return published
    }

    /// Moves every input's event time forward to `time` and commits, closing the windows that
    /// allows, as if an event that late had arrived on every partition. For tests and tools;
    /// a pipeline that runs normally moves its time with its events.
    public func advanceEventTime(to time: Date) throws {
        graph.advanceEventTime(to: time.millisecondsSince1970)
        pendingCommit = true
        try commit(BatchSummary())
    }

    /// Hands a record to each of its input's sources that takes its type, counting in `taken`
    /// (by position in `sources`) the records each source took. The caller has set the graph's
    /// current input, and clears its current record after the read.
    private func process(_ record: LogRecordView, input: Int, sources: [(index: Int, binding: PipelineGraph.Binding)],
                         taken: inout [Int], summary: inout BatchSummary) throws {
        summary.records += 1
        graph.current = record
        let meta = EventMeta(time: record.timestamp, input: input, offset: record.offset, key: nil)
        var anyTook = false, wantedTombstone = false
        for position in sources.indices {
            let binding = sources[position].binding
            if let wanted = binding.type, !Self.hasType(record, wanted) { continue }
            guard let value = record.value else {
                wantedTombstone = true
                continue
            }
            anyTook = true
            taken[position] += 1
            try binding.deliver(value, meta, graph)
        }
        if !anyTook {
            summary.skipped += 1
            summary.skippedByType[wantedTombstone ? Self.tombstoneType : Self.typeName(of: record), default: 0] += 1
        }
    }

    /// The record's `type` header as text, or `""` without one.
    private static func typeName(of record: LogRecordView) -> String {
        var name = ""
        record.forEachHeader { key, value in
            if key.count == 4, key.elementsEqual("type".utf8) { name = value.map { String(decoding: $0, as: UTF8.self) } ?? "" }
        }
        return name
    }

    /// Whether the record's `type` header is `wanted`, compared in place.
    private static func hasType(_ record: LogRecordView, _ wanted: [UInt8]) -> Bool {
        var matches = false
        wanted.withUnsafeBytes { wanted in
            typeHeader.withUnsafeBytes { typeHeader in
                record.forEachHeader { key, value in
                    if RawBytes.equal(key, typeHeader) { matches = value.map { RawBytes.equal($0, wanted) } ?? false }
                }
            }
        }
        return matches
    }

    private static let typeHeader = Array(OutboxRelay.Header.type.utf8)

    // MARK: - Commit

    /// Commits the batch in hand, after checking that no other runner committed (or rebuilt
    /// the pipeline) since this one loaded its state or last committed.
    /// - Parameter finishingRebuild: Clears the pipeline's rebuilding mark in the same
    ///   transaction.
    private func commit(_ summary: BatchSummary, finishingRebuild: Bool = false) throws {
        let name = pipeline.name
        let (lagEvents, lagMs) = lag()
        try RunnelError.naming(store.derived.path, "committing a batch of pipeline \(name)") {
            try store.derived.write { db in try commit(summary, lag: (lagEvents, lagMs), finishingRebuild: finishingRebuild, db) }
        }
        // Counted once committed: a batch that rolled back is read again and counted then.
        metrics.committed(records: summary.records, deadLetters: graph.deadLetters.count, lateEvents: graph.lateEvents.count,
                          lag: (lagEvents, lagMs), at: Date())
        generation += 1
        graph.deadLetters.removeAll(keepingCapacity: true)
        graph.lateEvents.removeAll(keepingCapacity: true)
        skippedGaps.removeAll()
        pendingCommit = false
        if finishingRebuild {
            isRebuilding = false
            logger.info("pipeline rebuild complete: it has read the log to its end", metadata: ["pipeline": "\(name)"])
        }
        logger.debug("pipeline batch committed", metadata: [
            "pipeline": "\(name)", "pipeline.batch.records": "\(summary.records)",
            "pipeline.batch.dead_letters": "\(summary.deadLetters)", "pipeline.batch.late": "\(summary.lateEvents)",
            "pipeline.lag.events": "\(lagEvents)",
        ])
    }

    private func commit(_ summary: BatchSummary, lag: (events: Int64, milliseconds: Int64), finishingRebuild: Bool, _ db: Database) throws {
        let name = pipeline.name
        // Compare-and-set: the lock keeps a second runner out; this keeps one that got past it
        // (or a rebuild from under this one) from committing over another's batches. Throwing
        // here rolls the whole batch back.
        let stored = try Int64.fetchOne(db, sql: "SELECT generation FROM runnel_pipelines WHERE name = ?", arguments: [name])
        guard stored == generation else {
            let found = stored.map { "is at commit \($0)" } ?? "has no row for it"
            throw RunnelError(.concurrentRunner,
                              "pipeline \(name) was committed or rebuilt by another runner since this one loaded its state (runnel_pipelines in \(store.derived.path) \(found), this runner expected commit \(generation)); this runner's batch was rolled back, nothing of it was written",
                              hint: "Run each pipeline in one process at a time: stop the other runner, then run `runnel run \(name)` again; it goes on from the last commit")
        }
        for op in graph.operators { try op.flush(db, graph: graph) }
        let failedAt = Date().millisecondsSince1970
        for letter in graph.deadLetters {
            try db.cachedStatement(sql: """
                INSERT INTO runnel_pipeline_dead_letters (pipeline, topic, partition, "offset", key, value, error, failed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [name, letter.topic, letter.partition, letter.offset, letter.key, letter.value, letter.error, failedAt])
        }
        for event in graph.lateEvents {
            try db.cachedStatement(sql: """
                INSERT INTO runnel_pipeline_late_events (pipeline, topic, partition, "offset", event_time, watermark, key, value, reason)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [name, event.topic, event.partition, event.offset, event.eventTime, event.watermark, event.key, event.value, event.reason])
        }
        for input in graph.inputs {
            try db.cachedStatement(sql: """
                INSERT INTO runnel_pipeline_offsets (pipeline, topic, partition, next_offset, max_event_time) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (pipeline, topic, partition) DO UPDATE SET next_offset = excluded.next_offset, max_event_time = excluded.max_event_time
                """).execute(arguments: [name, input.topic, input.partition, input.nextOffset, input.maxEventTime])
        }
        // Records no source took, by type, counted with the batch that read them.
        for (type, records) in summary.skippedByType {
            try db.cachedStatement(sql: """
                INSERT INTO runnel_pipeline_skipped_types (pipeline, type, records, last_skipped_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (pipeline, type) DO UPDATE SET records = records + excluded.records, last_skipped_at = excluded.last_skipped_at
                """).execute(arguments: [name, type, records, failedAt])
        }
        // Gaps skipped with --skip-gap, recorded with the batch that went past them.
        for skipped in skippedGaps {
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO runnel_pipeline_skipped_gaps (pipeline, topic, partition, first_offset, last_offset, records, skipped_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [name, skipped.topic, skipped.partition, skipped.gap.firstOffset, skipped.gap.endOffset - 1,
                                          skipped.gap.count, failedAt])
        }
        try db.cachedStatement(sql: """
            UPDATE runnel_pipelines SET events_in = events_in + ?, batches = batches + 1, lag_events = ?, lag_ms = ?, updated_at = ?,
                generation = generation + 1, rebuild_started_at = CASE WHEN ? THEN NULL ELSE rebuild_started_at END
            WHERE name = ?
            """).execute(arguments: [summary.records, lag.events, lag.milliseconds, failedAt, finishingRebuild, name])
    }

    /// Records behind the log's end, and how far (in event time) the newest record in the log
    /// is ahead of the newest the pipeline read.
    private func lag() -> (events: Int64, milliseconds: Int64) {
        var events: Int64 = 0, milliseconds: Int64 = 0
        for (input, partition) in zip(graph.inputs, partitions) {
            events += max(0, partition.endOffset - input.nextOffset)
            if input.nextOffset < partition.endOffset, let newest = partition.newestTimestamp {
                milliseconds = max(milliseconds, newest - (input.maxEventTime ?? newest))
            }
        }
        return (events, milliseconds)
    }
}
