// Stateless stages: filter, map, flatMap, merge.

extension EventStream {
    /// Keeps the events for which `isIncluded` returns true.
    public func filter(_ isIncluded: @escaping @Sendable (Event) -> Bool) -> EventStream<Event> {
        EventStream(schema: schema) { graph, downstream in
            try connect(graph) { event, meta in
                if isIncluded(event) { try downstream(event, meta) }
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
                    return
                }
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
                    return
                }
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

// The same stages over window and aggregate rows: a column the closure read but the row does
// not have sends the row to the dead-letter table, naming it and the columns there are.
extension EventStream where Event == ViewRow {
    /// Keeps the rows for which `isIncluded` returns true (see ``ViewRow`` for missing columns).
    public func filter(_ isIncluded: @escaping @Sendable (ViewRow) -> Bool) -> EventStream<ViewRow> {
        EventStream(schema: schema) { graph, downstream in
            try connect(graph) { row, meta in
                let kept = isIncluded(row)
                if let problem = graph.columnMisses.take(row, stage: "filter") { return graph.deadLetter(row, meta, error: problem) }
                if kept { try downstream(row, meta) }
            }
        }
    }

    /// Turns each row into another value (see ``ViewRow`` for missing columns).
    public func map<Output>(_ transform: @escaping @Sendable (ViewRow) throws -> Output) -> EventStream<Output> {
        EventStream<Output> { graph, downstream in
            try connect(graph) { row, meta in
                let output: Output
                do {
                    output = try transform(row)
                } catch {
                    _ = graph.columnMisses.take(row, stage: "map")
                    return graph.deadLetter(row, meta, error: "map failed: \(error)")
                }
                if let problem = graph.columnMisses.take(row, stage: "map") { return graph.deadLetter(row, meta, error: problem) }
                try downstream(output, meta)
            }
        }
    }

    /// Turns each row into zero or more values (see ``ViewRow`` for missing columns).
    public func flatMap<Outputs: Sequence>(_ transform: @escaping @Sendable (ViewRow) throws -> Outputs) -> EventStream<Outputs.Element> {
        EventStream<Outputs.Element> { graph, downstream in
            try connect(graph) { row, meta in
                let outputs: Outputs
                do {
                    outputs = try transform(row)
                } catch {
                    _ = graph.columnMisses.take(row, stage: "flatMap")
                    return graph.deadLetter(row, meta, error: "flatMap failed: \(error)")
                }
                if let problem = graph.columnMisses.take(row, stage: "flatMap") { return graph.deadLetter(row, meta, error: problem) }
                for output in outputs { try downstream(output, meta) }
            }
        }
    }
}
