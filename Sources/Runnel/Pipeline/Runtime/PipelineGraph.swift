import Foundation
import GRDB

/// Where an event is as it flows through the stages: its event time, the input it was read
/// from, and (after `keyBy`) its group key.
struct EventMeta {
    /// Event time, milliseconds since 1970.
    var time: Int64
    /// The index of the input partition in ``PipelineGraph/inputs``, or -1 for rows an operator
    /// emitted at the end of a batch.
    var input: Int
    /// The record's offset in its partition (-1 for emitted rows).
    var offset: Int64
    /// The key set by `keyBy`.
    var key: GroupKey?
    /// True for a row that withdraws an earlier one (a session merged away).
    var isRetraction = false
}

/// Hands an event to the next stage.
typealias Emit<Event> = (Event, EventMeta) throws -> Void

/// A stage that keeps state across batches or writes at the end of a batch: windows,
/// aggregates, dedupe, sinks. Flushed in the order they were registered, which is upstream
/// first, inside the batch's transaction.
protocol PipelineOperator: AnyObject {
    /// What the operator is, as the pipeline's fingerprint records it: its kind and the
    /// settings that shape its output or state (window sizes, lateness, aggregates, sink names
    /// and columns), never its closures.
    var shape: String { get }
    /// Loads the operator's saved state (after a restart).
    func restore(_ db: Database, graph: PipelineGraph) throws
    /// Emits what the batch produced, saves state, and writes sink rows.
    func flush(_ db: Database, graph: PipelineGraph) throws
}

/// A pipeline compiled for one run: the decoders bound to each input topic, the chain of stage
/// closures, and the operators whose state is saved with every batch.
///
/// A graph lives on one thread for the length of a run; nothing in it is shared.
final class PipelineGraph {
    /// A topic a pipeline reads, with the decoders of every source bound to it.
    struct Binding {
        let topic: String
        /// The event type (`type` header) the source accepts; nil accepts every record.
        let type: [UInt8]?
        let deliver: (UnsafeRawBufferPointer, EventMeta, PipelineGraph) throws -> Void
    }

    /// One partition of an input topic and how far the pipeline has read it.
    struct Input {
        let topic: String
        let partition: Int
        var nextOffset: Int64
        /// The largest event time read from this partition (nil before its first event).
        var maxEventTime: Int64?
    }

    /// A record that could not be processed. Key and value are kept byte for byte: as text
    /// when they are UTF-8, as a blob when they are not (bad input is never rewritten).
    struct DeadLetter {
        let topic: String, partition: Int, offset: Int64
        let key: DatabaseValue, value: DatabaseValue, error: String
    }

    struct LateEvent {
        let topic: String, partition: Int, offset: Int64
        let eventTime: Int64, watermark: Int64
        let key: DatabaseValue, value: DatabaseValue, reason: String
    }

    let pipeline: Pipeline
    private let runningStore: Store?
    /// The store the pipeline runs against. A graph compiled only to check a pipeline
    /// (``init(checking:)``) has none and never runs.
    var store: Store {
        guard let runningStore else { preconditionFailure("a graph compiled to check pipeline \(pipeline.name) does not run") }
        return runningStore
    }
    /// Whether the graph was compiled only to check the pipeline.
    var isCheckOnly: Bool { runningStore == nil }
    private(set) var bindings: [Binding] = []
    /// Unchecked exclusivity: read and moved for every event, by the runner's thread alone.
    @exclusivity(unchecked) var inputs: [Input] = []
    private(set) var operators: [any PipelineOperator] = []
    /// Read views the pipeline writes, by name, with their columns and primary keys.
    private(set) var views: [String: ReadViewTable] = [:]
    /// KV stores the pipeline writes, by name.
    private(set) var kvStores: [String: KVStoreSpec] = [:]

    var deadLetters: [DeadLetter] = []
    /// Columns read from rows that lack them (see ``ViewRow``).
    let columnMisses = ColumnMisses()
    var lateEvents: [LateEvent] = []
    /// The record being processed, so a stage can copy it into the dead-letter or late table.
    var current: LogRecordView?
    var currentInput = -1
    /// Events dropped in this batch as the pipeline says (a missing lookup row with
    /// `ifMissing: .drop`, a duplicate), for the run's summary.
    var dropped = 0

    init(pipeline: Pipeline, store: Store) throws {
        self.pipeline = pipeline
        runningStore = store
        for output in pipeline.outputs {
            try output.connect(self)
        }
    }

    /// Compiles a pipeline without a store, to check what compiling checks (view keys and
    /// columns, window settings, names declared twice) and to list its views and stores.
    init(checking pipeline: Pipeline) throws {
        self.pipeline = pipeline
        runningStore = nil
        for output in pipeline.outputs {
            try output.connect(self)
        }
    }

    // MARK: - Building

    func bind(topic: String, type: String?, deliver: @escaping (UnsafeRawBufferPointer, EventMeta, PipelineGraph) throws -> Void) {
        bindings.append(Binding(topic: topic, type: type.map { Array($0.utf8) }, deliver: deliver))
    }

    /// The event types the pipeline's sources read (nil where a source takes every record).
    var sourceEventTypes: [(topic: String, type: String?)] {
        bindings.map { ($0.topic, $0.type.map { String(decoding: $0, as: UTF8.self) }) }
    }

    /// The event types the pipeline writes to derived topics.
    var emittedEventTypes: [String] {
        operators.flatMap { ($0 as? any EventTypeEmitting)?.emittedEventTypes ?? [] }
    }

    /// The pipeline's structure, one line per source and operator in the order they were
    /// compiled: what its fingerprint (`runnel_pipelines.shape`) compares between runs.
    var shape: [String] {
        bindings.map { "source \($0.topic)" + ($0.type.map { " type \(String(decoding: $0, as: UTF8.self))" } ?? "") }
            + operators.map(\.shape)
    }

    /// Registers an operator; its id (its position) keys its saved state.
    @discardableResult
    func register(_ op: any PipelineOperator) -> Int {
        operators.append(op)
        return operators.count - 1
    }

    func declare(_ view: ReadViewTable) throws {
        if let other = views.keys.first(where: { $0 != view.name && $0.lowercased() == view.name.lowercased() }) {
            throw RunnelError(.pipeline, "pipeline \(pipeline.name) declares read views \(other) and \(view.name), one table to SQLite, whose table names ignore case",
                              hint: "Use one spelling for one view, or give them different names")
        }
        if let existing = views[view.name], existing != view {
            throw RunnelError(.pipeline, "pipeline \(pipeline.name) declares read view \(view.name) twice with different columns",
                              hint: "Give each output its own view, or declare the same columns and primary key")
        }
        views[view.name] = view
    }

    func declare(_ store: KVStoreSpec) throws {
        guard kvStores[store.name] == nil else {
            throw RunnelError(.pipeline, "pipeline \(pipeline.name) writes KV store \(store.name) from two outputs",
                              hint: "Give each output its own store; a store holds one value per key")
        }
        kvStores[store.name] = store
    }

    // MARK: - Time

    /// The event time an operator judges lateness against for an event from `input`: the
    /// largest event time read from that partition (per partition, so the answer does not
    /// depend on how batches interleave partitions).
    func streamTime(of input: Int) -> Int64? {
        input >= 0 ? inputs[input].maxEventTime : closingTime
    }

    /// The event time every input with events has reached: windows ending before it (less the
    /// lateness) can close, because no partition can still send them an on-time event.
    var closingTime: Int64? {
        var least: Int64?
        for input in inputs {
            if let time = input.maxEventTime { least = min(least ?? time, time) }
        }
        return least
    }

    /// Moves the event time of `input` to at least `time`, in one access to ``inputs`` (this
    /// runs for every event, and each access to a class's array costs an exclusivity check).
    func moveStreamTime(of input: Int, to time: Int64) {
        inputs.withUnsafeMutableBufferPointer { inputs in
            if let reached = inputs[input].maxEventTime, reached >= time { return }
            inputs[input].maxEventTime = time
        }
    }

    /// Moves every input's event time to at least `time` (tests and tools: "advance the
    /// watermark").
    func advanceEventTime(to time: Int64) {
        for index in inputs.indices {
            inputs[index].maxEventTime = max(inputs[index].maxEventTime ?? time, time)
        }
    }

    // MARK: - Bad input

    func deadLetter(_ error: String) {
        let (topic, partition) = currentInput >= 0 ? (inputs[currentInput].topic, inputs[currentInput].partition) : ("", -1)
        deadLetters.append(DeadLetter(
            topic: topic, partition: partition, offset: current?.offset ?? -1,
            key: Self.kept(current?.key), value: Self.kept(current?.value), error: error))
    }

    /// Sends a window's or an aggregate's row to the dead-letter table: it comes from no one
    /// record (topic "", partition and offset -1); its key and its values as JSON are kept.
    func deadLetter(_ row: ViewRow, _ meta: EventMeta, error: String) {
        let json = JSONText.object(zip(row.schema.columns, row.values).map { column, value in
            switch value.storage {
            case .null: (column.name, "null")
            case .int64(let number): (column.name, String(number))
            case .double(let number): (column.name, number.isFinite ? String(number) : JSONText.quoted(String(number)))
            case .string(let text): (column.name, JSONText.quoted(text))
            case .blob(let data): (column.name, JSONText.quoted(data.base64EncodedString()))
            }
        })
        deadLetters.append(DeadLetter(topic: "", partition: -1, offset: -1, key: meta.key?.text.databaseValue ?? .null,
                                      value: json.databaseValue, error: error))
    }

    /// After a stage's closure: when it read a column a row lacks, sends that row to the
    /// dead-letter table and says so (the stage then passes nothing on).
    @inline(__always)
    func rejectsMissingColumns(_ meta: EventMeta, stage: String) -> Bool {
        guard columnMisses.isPending, let (row, problem) = columnMisses.take(stage: stage) else { return false }
        deadLetter(row, meta, error: problem)
        return true
    }

    func late(_ meta: EventMeta, watermark: Int64, reason: String) {
        let (topic, partition) = meta.input >= 0 ? (inputs[meta.input].topic, inputs[meta.input].partition) : ("", -1)
        lateEvents.append(LateEvent(
            topic: topic, partition: partition, offset: meta.offset, eventTime: meta.time, watermark: watermark,
            key: meta.key?.text.databaseValue ?? Self.kept(current?.key), value: Self.kept(current?.value), reason: reason))
    }

    /// Record bytes as stored in the dead-letter and late tables: text when they are valid
    /// UTF-8, else the bytes themselves as a blob (`String(decoding:)` would replace them).
    private static func kept<Bytes: Collection>(_ bytes: Bytes?) -> DatabaseValue where Bytes.Element == UInt8 {
        guard let bytes else { return .null }
        if let text = String(validating: bytes, as: UTF8.self) { return text.databaseValue }
        return Data(bytes).databaseValue
    }
}
