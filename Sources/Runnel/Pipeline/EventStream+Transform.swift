// Stateless stages: filter, map, flatMap, merge.

extension EventStream {
    /// Keeps the events for which `isIncluded` returns true.
    public func filter(_ isIncluded: @escaping @Sendable (Event) -> Bool) -> EventStream<Event> {
        EventStream(schema: schema) { graph, downstream in
            try connect(graph) { event, meta in
                let kept = isIncluded(event)
                if graph.rejectsMissingColumns(meta, stage: "filter") { return }
                if kept { try downstream(event, meta) }
            }
        }
    }

    /// Turns each event into another value. An error thrown by `transform` sends the record to
    /// the dead-letter table with the error, and the pipeline goes on.
    public func map<Output>(_ transform: @escaping @Sendable (Event) throws -> Output) -> EventStream<Output> {
        EventStream<Output> { graph, downstream in
            try connect(graph) { event, meta in
                let output: Output
                do {
                    output = try transform(event)
                } catch {
                    graph.deadLetter("map failed: \(error)")
                    _ = graph.columnMisses.take(stage: "map")   // the failure is the dead letter's error
                    return
                }
                if graph.rejectsMissingColumns(meta, stage: "map") { return }
                try downstream(output, meta)
            }
        }
    }

    /// Turns each event into zero or more values, each keeping the event's time.
    public func flatMap<Outputs: Sequence>(_ transform: @escaping @Sendable (Event) throws -> Outputs) -> EventStream<Outputs.Element> {
        EventStream<Outputs.Element> { graph, downstream in
            try connect(graph) { event, meta in
                let outputs: Outputs
                do {
                    outputs = try transform(event)
                } catch {
                    graph.deadLetter("flatMap failed: \(error)")
                    _ = graph.columnMisses.take(stage: "flatMap")   // the failure is the dead letter's error
                    return
                }
                if graph.rejectsMissingColumns(meta, stage: "flatMap") { return }
                for output in outputs { try downstream(output, meta) }
            }
        }
    }

    /// Interleaves this stream with others of the same type (several topics, or several event
    /// types of one topic, mapped to one type first).
    ///
    /// Events of one partition keep their order; across partitions the order depends on how
    /// batches fall, so what follows a merge should not depend on it (counts, sums, the
    /// latest value by event time).
    public func merge(_ others: EventStream<Event>...) -> EventStream<Event> {
        let streams = [self] + others
        return EventStream(schema: schema) { graph, downstream in
            for stream in streams { try stream.connect(graph, downstream) }
        }
    }
}
