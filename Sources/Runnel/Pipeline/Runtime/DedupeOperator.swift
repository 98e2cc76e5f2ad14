import GRDB

/// Drops events whose id was already seen within a span of event time.
final class DedupeOperator<Event, ID: ColumnValue & Hashable>: PipelineOperator {
    private let id: KeyPath<Event, ID> & Sendable
    private let within: Int64
    private var seen: [DatabaseValue: Int64] = [:]
    private var changed: Set<DatabaseValue> = []
    private var state: OperatorState!

    var shape: String { "dedupe within \(within) ms" }

    init(id: KeyPath<Event, ID> & Sendable, within: TimeSpan) {
        self.id = id
        self.within = within.milliseconds
    }

    /// Wires `upstream` through the dedupe into `downstream`, then registers the operator,
    /// after the upstream stages so that it flushes after them.
    func connect(after upstream: EventStream<Event>, _ graph: PipelineGraph, downstream: @escaping Emit<Event>) throws {
        try upstream.connect(graph) { [unowned self] event, meta in
            let key = event[keyPath: id].columnValue
            if let first = seen[key], abs(meta.time - first) <= within {
                graph.dropped += 1
                return
            }
            seen[key] = meta.time
            changed.insert(key)
            try downstream(event, meta)
        }
        state = OperatorState(pipeline: graph.pipeline.name, id: graph.register(self))
    }

    func restore(_ db: Database, graph: PipelineGraph) throws {
        try state.load(db) { key, saved in
            var keyReader = StateReader(key)
            var stateReader = StateReader(saved)
            seen[try keyReader.value()] = try stateReader.int64()
        }
    }

    func flush(_ db: Database, graph: PipelineGraph) throws {
        // Ids older than every input's event time less the horizon can no longer match an
        // on-time event: forget them, so state stays bounded.
        if let now = graph.closingTime {
            let horizon = now - within
            for (key, time) in seen where time < horizon {
                seen[key] = nil
                changed.insert(key)
            }
        }
        for key in changed {
            var keyWriter = StateWriter()
            keyWriter.value(key)
            if let time = seen[key] {
                var stateWriter = StateWriter()
                stateWriter.int64(time)
                try state.save(db, key: keyWriter.bytes, state: stateWriter.bytes)
            } else {
                try state.delete(db, key: keyWriter.bytes)
            }
        }
        changed.removeAll(keepingCapacity: true)
    }
}

extension EventStream {
    /// Drops an event when another with the same id came within `within` of its event time
    /// (a client retry, a relay replay upstream of Runnel). Seen ids are saved with each batch
    /// and forgotten once every input is past them by more than `within`.
    public func dedupe<ID: ColumnValue & Hashable>(by id: KeyPath<Event, ID> & Sendable, within: TimeSpan) -> EventStream<Event> {
        EventStream(schema: schema) { graph, downstream in
            try DedupeOperator<Event, ID>(id: id, within: within).connect(after: self, graph, downstream: downstream)
        }
    }
}
