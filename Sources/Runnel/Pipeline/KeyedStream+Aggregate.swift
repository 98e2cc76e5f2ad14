extension KeyedStream {
    /// Aggregates each key's events per window of event time.
    ///
    /// The rows have the key's columns, `window_start` and `window_end` (milliseconds since
    /// 1970; for sessions the first and last event times), then one column per aggregate.
    ///
    /// - Parameters:
    ///   - kind: Tumbling, hopping or session windows.
    ///   - lateness: How far behind its partition's newest event time an event may be and still
    ///     count. Later events go to the pipeline's late table (`runnel_pipeline_late_events`).
    ///   - emit: `.onUpdate` to emit a window's row after every batch that changed it;
    ///     `.onClose` to emit it once, when it closes.
    ///   - aggregates: What to compute, one aggregate per line.
    public func window(
        _ kind: WindowKind,
        lateness: TimeSpan = .zero,
        emit: EmitPolicy = .onUpdate,
        @AggregatesBuilder<Event> _ aggregates: () -> [any AggregateFunction<Event>]
    ) -> EventStream<ViewRow> {
        let aggregates = aggregates()
        let keyColumns = keyColumns
        let stream = stream
        let schema = WindowedAggregation<Event>.schema(keyColumns: keyColumns, aggregates: aggregates, hasWindowColumns: true)
        return EventStream<ViewRow>(schema: schema) { graph, downstream in
            let window: WindowedAggregation<Event>
            switch kind {
            case .session(let gap):
                try Self.checkPositive(gap, "session gap", graph)
                window = SessionWindowOperator(gap: gap, keyColumns: keyColumns, aggregates: aggregates, emit: emit, lateness: lateness)
            case .tumbling(let size):
                try Self.checkPositive(size, "window size", graph)
                window = FixedWindowOperator(.tumbling(size: size.milliseconds), keyColumns: keyColumns, aggregates: aggregates, emit: emit, lateness: lateness)
            case .hopping(let size, let advance):
                try Self.checkPositive(size, "window size", graph)
                try Self.checkPositive(advance, "hop", graph)
                guard advance <= size else {
                    throw RunnelError(.pipeline, "pipeline \(graph.pipeline.name): a hopping window advances by \(advance), more than its size \(size), so events between windows would be lost",
                                      hint: "Make the advance at most the size (equal sizes are tumbling windows)")
                }
                window = FixedWindowOperator(.hopping(size: size.milliseconds, advance: advance.milliseconds), keyColumns: keyColumns, aggregates: aggregates, emit: emit, lateness: lateness)
            }
            try window.connect(after: stream, graph, downstream: downstream)
        }
    }

    /// A running aggregate per key with no window, like a Kafka Streams `KTable`: one row per
    /// key (the key's columns, then one per aggregate), updated after every batch that changed
    /// it. Its state is kept for as long as the pipeline runs.
    public func aggregate(@AggregatesBuilder<Event> _ aggregates: () -> [any AggregateFunction<Event>]) -> EventStream<ViewRow> {
        let aggregates = aggregates()
        let keyColumns = keyColumns
        let stream = stream
        let schema = WindowedAggregation<Event>.schema(keyColumns: keyColumns, aggregates: aggregates, hasWindowColumns: false)
        return EventStream<ViewRow>(schema: schema) { graph, downstream in
            try FixedWindowOperator(.unbounded, keyColumns: keyColumns, aggregates: aggregates, emit: .onUpdate, lateness: .zero)
                .connect(after: stream, graph, downstream: downstream)
        }
    }

    private static func checkPositive(_ span: TimeSpan, _ what: String, _ graph: PipelineGraph) throws {
        guard span.milliseconds > 0 else {
            throw RunnelError(.pipeline, "pipeline \(graph.pipeline.name): the \(what) is \(span); it must be positive")
        }
    }
}
