import Foundation
import GRDB

/// One window of one key: its bounds and an accumulator per aggregate.
final class WindowSlot<Event> {
    let key: GroupKey
    var start: Int64
    /// Exclusive end for tumbling and hopping windows; the last event's time for a session.
    var end: Int64
    let accumulators: [Accumulator<Event>]
    /// The first of ``accumulators``, each linking the next, so the per-event loop calls them
    /// without touching the array: code generic over the event type looks up the array's type
    /// metadata at run time on every access, which cost more than the aggregates' own work.
    /// Unmanaged, so that walking the chain retains and releases nothing (``accumulators``
    /// keeps them alive). Nil when the accumulators are not this window's alone (see the
    /// initialiser); the loop then walks the array.
    private let firstAccumulator: Unmanaged<Accumulator<Event>>?
    /// Changed since the last flush.
    var changed = false
    /// The start its state row was saved under, if saved.
    var savedStart: Int64?
    /// The start its row was last emitted with (for retracting a session whose start moved).
    var emittedStart: Int64?

    init(key: GroupKey, start: Int64, end: Int64, accumulators: [Accumulator<Event>]) {
        self.key = key
        self.start = start
        self.end = end
        self.accumulators = accumulators
        // Chain only accumulators this window has to itself. An aggregate whose
        // `makeAccumulator()` hands one out twice (caching it) would otherwise make a loop, or
        // a chain running into another window's accumulators after that window is gone; such
        // windows walk their array instead. Marking each as it is checked also finds one that
        // appears twice in this window. Index loops only: this runs for every new window, and
        // the iterators and slices of code generic over the event type look up type metadata
        // at run time, which cost more than the rest of making the window.
        let count = accumulators.count
        for index in 0..<count {
            guard !accumulators[index].isChained else {
                for marked in 0..<index { accumulators[marked].isChained = false }
                firstAccumulator = nil
                return
            }
            accumulators[index].isChained = true
        }
        for index in 1..<max(count, 1) { accumulators[index - 1].next = Unmanaged.passUnretained(accumulators[index]) }
        firstAccumulator = count > 0 ? Unmanaged.passUnretained(accumulators[0]) : nil
    }

    func add(_ event: Event, _ meta: EventMeta) {
        guard firstAccumulator != nil || accumulators.isEmpty else {
            for accumulator in accumulators { accumulator.add(event, meta) }
            changed = true
            return
        }
        var link = firstAccumulator
        while let current = link {
            link = current._withUnsafeGuaranteedRef { accumulator in
                accumulator.add(event, meta)
                return accumulator.next
            }
        }
        changed = true
    }
}

struct WindowID: Hashable {
    let key: GroupKey
    let start: Int64
}

/// What windows and running aggregates share: the output schema, the rows, the saved state.
class WindowedAggregation<Event>: PipelineOperator {
    let aggregates: [any AggregateFunction<Event>]
    let schema: RowSchema
    let emit: EmitPolicy
    let lateness: Int64
    /// Whether rows carry `window_start` and `window_end` (not for running aggregates).
    let hasWindowColumns: Bool
    var downstream: Emit<ViewRow> = { _, _ in }
    /// The graph's note of missing columns, which the rows carry.
    private var misses: ColumnMisses?
    var state: OperatorState!
    /// The closing watermark already applied: windows ending at or before it are gone.
    var closedThrough = Int64.min

    /// The window's kind and size, for ``shape`` (subclasses say).
    var windowShape: String { "" }

    var shape: String {
        let aggregateKinds = aggregates.map { aggregate in
            "\(String(describing: type(of: aggregate)).prefix { $0 != "<" })(\(aggregate.column.name))"
        }
        return "\(windowShape) columns [\(schema.columns.map { "\($0.name) \($0.type)" }.joined(separator: ", "))] "
            + "aggregates [\(aggregateKinds.joined(separator: ", "))] emit \(emit) lateness \(lateness)"
    }

    init(keyColumns: [ColumnDefinition], aggregates: [any AggregateFunction<Event>], emit: EmitPolicy, lateness: TimeSpan, hasWindowColumns: Bool) {
        self.aggregates = aggregates
        self.emit = emit
        self.lateness = lateness.milliseconds
        self.hasWindowColumns = hasWindowColumns
        schema = Self.schema(keyColumns: keyColumns, aggregates: aggregates, hasWindowColumns: hasWindowColumns)
    }

    /// The rows' columns: the key's, then `window_start` and `window_end` (milliseconds), then
    /// one per aggregate.
    static func schema(keyColumns: [ColumnDefinition], aggregates: [any AggregateFunction<Event>], hasWindowColumns: Bool) -> RowSchema {
        let windowColumns = hasWindowColumns ? [ColumnDefinition("window_start", Int64.self), ColumnDefinition("window_end", Int64.self)] : []
        return RowSchema(keyColumns + windowColumns + aggregates.map(\.column))
    }

    /// Checks the definition: column names must be distinct.
    static func validate(_ schema: RowSchema, pipeline: String) throws {
        var seen: Set<String> = []
        for column in schema.columns where !seen.insert(column.name).inserted {
            throw RunnelError(.pipeline, "pipeline \(pipeline) has two columns named \(column.name) in one window's rows",
                              hint: "Give each aggregate and key column its own name")
        }
    }

    /// Checks the definition, wires `upstream` into ``input(_:)``, then registers the operator,
    /// after the upstream stages so that it flushes after them.
    func connect(after upstream: EventStream<Event>, _ graph: PipelineGraph, downstream: @escaping Emit<ViewRow>) throws {
        try validate(graph)
        self.downstream = downstream
        misses = graph.columnMisses
        try upstream.connect(graph, input(graph))
        state = OperatorState(pipeline: graph.pipeline.name, id: graph.register(self))
    }

    /// Checks what the graph needs of this operator.
    func validate(_ graph: PipelineGraph) throws {
        try Self.validate(schema, pipeline: graph.pipeline.name)
    }

    /// Takes one keyed event.
    func input(_ graph: PipelineGraph) -> Emit<Event> {
        { _, _ in }
    }

    func makeSlot(key: GroupKey, start: Int64, end: Int64) -> WindowSlot<Event> {
        WindowSlot(key: key, start: start, end: end, accumulators: aggregates.map { $0.makeAccumulator() })
    }

    func row(_ slot: WindowSlot<Event>, start: Int64? = nil) -> ViewRow {
        var values = slot.key.values
        values.reserveCapacity(schema.columns.count)
        if hasWindowColumns {
            values.append((start ?? slot.start).databaseValue)
            values.append(slot.end.databaseValue)
        }
        for accumulator in slot.accumulators { values.append(accumulator.result) }
        return ViewRow(schema: schema, values: values, misses: misses)
    }

    func send(_ slot: WindowSlot<Event>, retractingStart: Int64? = nil) throws {
        let start = retractingStart ?? slot.start
        try downstream(row(slot, start: start), EventMeta(time: start, input: -1, offset: -1, key: slot.key, isRetraction: retractingStart != nil))
    }

    // MARK: - State

    /// The state row key of one slot (sessions, running aggregates).
    func stateKey(_ key: GroupKey, start: Int64) -> [UInt8] {
        var writer = StateWriter()
        writer.values(key.values)
        writer.int64(start)
        return writer.bytes
    }

    /// Writes a slot's bounds and accumulators (not its key or start).
    func encode(_ slot: WindowSlot<Event>, into writer: inout StateWriter) throws {
        writer.int64(slot.end)
        writer.int64(slot.emittedStart ?? Int64.min)
        for accumulator in slot.accumulators { try accumulator.save(&writer) }
    }

    /// Reads what ``encode(_:into:)`` wrote.
    func decodeSlot(key: GroupKey, start: Int64, from reader: inout StateReader) throws -> WindowSlot<Event> {
        let slot = makeSlot(key: key, start: start, end: try reader.int64())
        let emitted = try reader.int64()
        slot.emittedStart = emitted == Int64.min ? nil : emitted
        for accumulator in slot.accumulators { try accumulator.restore(&reader) }
        return slot
    }

    func save(_ slot: WindowSlot<Event>, _ db: Database) throws {
        if let saved = slot.savedStart, saved != slot.start {
            try state.delete(db, key: stateKey(slot.key, start: saved))
        }
        var writer = StateWriter()
        try encode(slot, into: &writer)
        try state.save(db, key: stateKey(slot.key, start: slot.start), state: writer.bytes)
        slot.savedStart = slot.start
    }

    func forget(_ slot: WindowSlot<Event>, _ db: Database) throws {
        if let saved = slot.savedStart { try state.delete(db, key: stateKey(slot.key, start: saved)) }
    }

    /// Reads every slot saved one per row back.
    func loadSlots(_ db: Database, _ body: (WindowSlot<Event>) -> Void) throws {
        try state.load(db) { key, saved in
            var keyReader = StateReader(key)
            let values = try keyReader.values()
            let start = try keyReader.int64()
            var reader = StateReader(saved)
            let slot = try decodeSlot(key: GroupKey(values), start: start, from: &reader)
            slot.savedStart = start
            body(slot)
        }
    }

    /// Orders slots so rows go downstream in the same order on every run.
    static func ordered(_ slots: some Sequence<WindowSlot<Event>>) -> [WindowSlot<Event>] {
        slots.sorted { ($0.start, $0.end) != ($1.start, $1.end) ? ($0.start, $0.end) < ($1.start, $1.end) : $0.key.precedes($1.key) }
    }

    func restore(_ db: Database, graph: PipelineGraph) throws {}
    func flush(_ db: Database, graph: PipelineGraph) throws {}
}
