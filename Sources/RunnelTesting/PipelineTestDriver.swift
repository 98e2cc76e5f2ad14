import Foundation
import GRDB
import Runnel

/// Runs a pipeline against a temporary home, for tests: feed typed events, run, move the
/// watermark, read view rows, restart and replay an uncommitted batch.
///
/// ```swift
/// let driver = try PipelineTestDriver(MemberEngagementPipeline.pipeline, migrations: migrations)
/// try driver.send(activity, to: "member-activity", at: activity.occurredAt)
/// try driver.run()
/// let rows = try driver.rows("member_engagement_5m", as: Engagement.self, orderBy: "member_id, window_start")
/// #expect(rows.first?.events == 3)
/// ```
///
/// Events are appended to the home's log the way the relay appends them (JSON value, `type`
/// header, event time as the record timestamp), so the pipeline reads them as it would in
/// production.
public final class PipelineTestDriver {
    public let home: TemporaryHome
    public let store: Store
    public private(set) var pipeline: Pipeline
    public let log: Log
    /// Records per batch when the driver runs the pipeline.
    public var batchSize: Int
    private var runner: PipelineRunner?
    private var sequence = 0

    /// - Parameters:
    ///   - pipeline: The pipeline under test.
    ///   - migrations: A folder of business migrations to apply to `app.sqlite` (for enrich lookups).
    ///   - batchSize: Records per batch.
    public convenience init(_ pipeline: Pipeline, migrations: URL?, batchSize: Int = 1_000) throws {
        try self.init(pipeline, migrations: migrations.map(Migrations.folder), batchSize: batchSize)
    }

    /// - Parameters:
    ///   - pipeline: The pipeline under test.
    ///   - migrations: Business migrations to apply to `app.sqlite` (a catalog's, for enrich lookups).
    ///   - batchSize: Records per batch.
    public init(_ pipeline: Pipeline, migrations: Migrations? = nil, batchSize: Int = 1_000) throws {
        home = try TemporaryHome(label: "pipeline")
        store = try home.openStore(migrations: migrations)
        log = try Log.open(home.home.logURL)
        self.pipeline = pipeline
        self.batchSize = batchSize
    }

    deinit {
        try? log.close()
    }

    // MARK: - Input

    /// Appends an event to a topic (created with `partitions` partitions on first use).
    /// - Parameters:
    ///   - event: The payload, encoded as the outbox encodes it.
    ///   - topic: The topic.
    ///   - key: The record key (it picks the partition).
    ///   - type: The `type` header; by default the event's Swift type name, as ``OutboxEvent`` and
    ///     ``Source`` default it.
    ///   - time: The record timestamp (the relay uses the event time).
    @discardableResult
    public func send<Event: Encodable>(_ event: Event, to topic: String, key: String? = nil, type: String = String(describing: Event.self),
                                       at time: Date, partitions: Int = 1) throws -> Int64 {
        try sendBytes(Array(try Outbox.makeEncoder().encode(event)), to: topic, key: key, type: type, at: time, partitions: partitions)
    }

    /// Appends raw bytes as a record's value: for undecodable input.
    @discardableResult
    public func sendBytes(_ value: [UInt8]?, to topic: String, key: String? = nil, type: String, at time: Date, partitions: Int = 1) throws -> Int64 {
        let logTopic = try log.topic(topic, creatingWith: TopicConfiguration(partitions: partitions))
        let record = LogRecord(timestamp: time.millisecondsSince1970, key: key.map { Array($0.utf8) }, value: value,
                               headers: [RecordHeader("type", type)])
        sequence += 1
        let partition = logTopic.partition(for: record.key, sequence: sequence)
        return try logTopic.partitions[partition].append([record])
    }

    // MARK: - Running

    private func currentRunner() throws -> PipelineRunner {
        if let runner { return runner }
        let made = try PipelineRunner(pipeline: pipeline, store: store, log: log, options: .init(batchSize: batchSize))
        runner = made
        return made
    }

    /// Runs the pipeline to the log's end (batch mode).
    @discardableResult
    public func run() throws -> PipelineRunner.RunSummary {
        try currentRunner().runToEnd()
    }

    /// Runs one batch.
    @discardableResult
    public func runBatch() throws -> PipelineRunner.BatchSummary {
        try currentRunner().runBatch()
    }

    /// Moves event time on every input to `time` and commits, closing the windows that allows.
    public func advanceWatermark(to time: Date) throws {
        try currentRunner().advanceEventTime(to: time)
    }

    /// Processes the next batch, throws it away uncommitted and forgets the runner: a restart
    /// after work that never reached its commit. The next `run` starts from what was committed,
    /// so the discarded batch is replayed.
    ///
    /// This is a restart test, not a crash: the process keeps its memory and nothing is cut
    /// off mid-write. Runnel's own crash tests kill a child `runnel` process with SIGKILL.
    public func discardUncommittedBatch() throws {
        try currentRunner().runBatch(committing: false)
        runner = nil
    }

    /// Forgets the runner (a clean restart); the next run loads the committed state.
    public func restart() {
        runner = nil
    }

    /// Replaces the pipeline (a new version, say) and restarts.
    public func replace(with pipeline: Pipeline, rebuild: Bool = false) throws {
        runner = nil
        self.pipeline = pipeline
        if rebuild { try PipelineRunner.dropState(of: pipeline, in: store) }
    }

    // MARK: - Output

    /// The rows of a table in `derived.sqlite`, with plain Swift values by column name.
    /// - Parameters:
    ///   - table: A read view, or one of Runnel's tables.
    ///   - orderBy: An SQL `ORDER BY` clause, without the keywords.
    public func rows(_ table: String, orderBy: String? = nil) throws -> [TestRow] {
        try store.derived.read { db in
            let order = orderBy.map { " ORDER BY \($0)" } ?? ""
            return try Row.fetchAll(db, sql: "SELECT * FROM \(SQLIdentifier.quoted(table))\(order)").map(TestRow.init)
        }
    }

    /// The rows of a table decoded into a type of your own (see ``TestRow/decode(as:)``):
    /// `try driver.rows("member_engagement_5m", as: Engagement.self)`.
    public func rows<Row: Decodable>(_ table: String, as type: Row.Type, orderBy: String? = nil) throws -> [Row] {
        try rows(table, orderBy: orderBy).map { try $0.decode(as: type) }
    }

    /// The pipeline's dead letters, oldest first.
    public func deadLetters() throws -> [TestRow] {
        try rows("runnel_pipeline_dead_letters", orderBy: "id").filter { $0["pipeline"] == .text(pipeline.name) }
    }

    /// A KV store the pipeline published, opened at its current version.
    public func kvStore(_ name: String) throws -> KVStore {
        try KVStore.open(name, in: home.home)
    }

    /// The pipeline's late events, oldest first.
    public func lateEvents() throws -> [TestRow] {
        try rows("runnel_pipeline_late_events", orderBy: "id").filter { $0["pipeline"] == .text(pipeline.name) }
    }
}
