import Foundation
import GRDB

/// An operator's rows in `runnel_pipeline_state`: one per key (a window, a dedupe id), written
/// in the batch's transaction.
struct OperatorState {
    let pipeline: String
    let id: Int

    func save(_ db: Database, key: [UInt8], state: [UInt8]) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO runnel_pipeline_state (pipeline, operator, key, state) VALUES (?, ?, ?, ?)
            ON CONFLICT (pipeline, operator, key) DO UPDATE SET state = excluded.state
            """)
        try FastStatement.execute(statement, db) { handle in
            FastStatement.bind(handle, 1, pipeline)
            FastStatement.bind(handle, 2, Int64(id).databaseValue)
            FastStatement.bind(handle, 3, key)
            FastStatement.bind(handle, 4, state)
        }
    }

    func delete(_ db: Database, key: [UInt8]) throws {
        let statement = try db.cachedStatement(sql: "DELETE FROM runnel_pipeline_state WHERE pipeline = ? AND operator = ? AND key = ?")
        try FastStatement.execute(statement, db) { handle in
            FastStatement.bind(handle, 1, pipeline)
            FastStatement.bind(handle, 2, Int64(id).databaseValue)
            FastStatement.bind(handle, 3, key)
        }
    }

    /// Calls `body` with every saved key and state of the operator.
    func load(_ db: Database, _ body: (Data, Data) throws -> Void) throws {
        let rows = try Row.fetchCursor(db, sql: "SELECT key, state FROM runnel_pipeline_state WHERE pipeline = ? AND operator = ?",
                                       arguments: [pipeline, id])
        while let row = try rows.next() {
            do {
                try body(row[0], row[1])
            } catch is StateReader.Damaged {
                throw RunnelError(.pipeline, "the saved state of operator \(id) of pipeline \(pipeline) does not parse",
                                  hint: "Run `runnel run \(pipeline) --rebuild` to rebuild it from the log")
            }
        }
    }
}

/// Drops events whose id was already seen within a span of event time.
final class DedupeOperator<Event, ID: ColumnValue & Hashable>: PipelineOperator {
    private let id: KeyPath<Event, ID> & Sendable
    private let within: Int64
    private var seen: [DatabaseValue: Int64] = [:]
    private var changed: Set<DatabaseValue> = []
    private var state: OperatorState!

    init(id: KeyPath<Event, ID> & Sendable, within: TimeSpan) {
        self.id = id
        self.within = within.milliseconds
    }

    func attach(_ graph: PipelineGraph, downstream: @escaping Emit<Event>) -> Emit<Event> {
        state = OperatorState(pipeline: graph.pipeline.name, id: graph.register(self))
        return { [unowned self] event, meta in
            let key = event[keyPath: id].columnValue
            if let first = seen[key], abs(meta.time - first) <= within {
                graph.dropped += 1
                return
            }
            seen[key] = meta.time
            changed.insert(key)
            try downstream(event, meta)
        }
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
            let dedupe = DedupeOperator<Event, ID>(id: id, within: within)
            // Register after the upstream stages so state flushes upstream first.
            var input: Emit<Event>?
            try connect(graph) { event, meta in try input!(event, meta) }
            input = dedupe.attach(graph, downstream: downstream)
        }
    }
}
