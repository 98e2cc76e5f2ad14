/// A stream whose events carry a group key, made by ``EventStream/keyBy(_:_:)``: the input of
/// windows and running aggregates. The key's columns lead every row they emit.
public struct KeyedStream<Event>: Sendable {
    /// The key's columns, in order.
    let keyColumns: [ColumnDefinition]
    let stream: EventStream<Event>
}

extension EventStream {
    /// Groups events by one field; `column` names it in the rows downstream.
    public func keyBy<Key: ColumnValue>(_ column: String, _ key: KeyPath<Event, Key> & Sendable) -> KeyedStream<Event> {
        let key = FieldReader(key)
        return keyed([ColumnDefinition(column, Key.self)]) { .single(key($0).columnValue) }
    }

    /// Groups events by two fields.
    public func keyBy<Key1: ColumnValue, Key2: ColumnValue>(
        _ column1: String, _ key1: KeyPath<Event, Key1> & Sendable,
        _ column2: String, _ key2: KeyPath<Event, Key2> & Sendable
    ) -> KeyedStream<Event> {
        let (key1, key2) = (FieldReader(key1), FieldReader(key2))
        return keyed([ColumnDefinition(column1, Key1.self), ColumnDefinition(column2, Key2.self)]) {
            .many([key1($0).columnValue, key2($0).columnValue])
        }
    }

    private func keyed(_ columns: [ColumnDefinition], _ key: @escaping @Sendable (Event) -> GroupKey) -> KeyedStream<Event> {
        KeyedStream(keyColumns: columns, stream: EventStream { graph, downstream in
            try connect(graph) { event, meta in
                var meta = meta
                meta.key = key(event)
                try downstream(event, meta)
            }
        })
    }
}
