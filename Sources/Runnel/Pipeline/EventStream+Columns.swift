import GRDB

// Columns computed from a window's or an aggregate's rows.

extension EventStream where Event == ViewRow {
    /// Adds a column computed from each row: a ratio of two aggregates, a flag, a label.
    ///
    /// The column's SQLite type comes from what `compute` returns (`Double` gives `REAL NOT
    /// NULL`, `Double?` a nullable `REAL`), so a read view after it declares the right column:
    ///
    /// ```swift
    /// .window(.tumbling(.hours(1))) {
    ///     Count("sent", where: { $0.kind == .sent })
    ///     Count("accepted", where: { $0.kind == .accepted })
    /// }
    /// .column("acceptance_rate") { row -> Double? in
    ///     guard let sent = row["sent", as: Int64.self], sent > 0 else { return nil }
    ///     return Double(row["accepted", as: Int64.self] ?? 0) / Double(sent)
    /// }
    /// ```
    ///
    /// A row for which `compute` throws, or reads a column the row does not have, goes to the
    /// dead-letter table with the reason; the pipeline goes on.
    /// - Parameters:
    ///   - name: The new column; it must not be one of the row's columns already.
    ///   - compute: The column's value for a row.
    public func column<Value: ColumnValue>(_ name: String, _ compute: @escaping @Sendable (ViewRow) throws -> Value) -> EventStream<ViewRow> {
        let input = schema
        let output = input.map { RowSchema($0.columns + [ColumnDefinition(name, Value.self)]) }
        return EventStream(schema: output) { graph, downstream in
            let output = try Self.extending(input, output, with: name, graph)
            try connect(graph) { row, meta in
                let value: Value
                do {
                    value = try compute(row)
                } catch {
                    graph.deadLetter(row, meta, error: "column \(name) failed: \(error)")
                    _ = graph.columnMisses.take(stage: "column \(name)")   // the failure is the dead letter's error
                    return
                }
                if graph.rejectsMissingColumns(meta, stage: "column \(name)") { return }
                try downstream(ViewRow(schema: output, values: row.values + [value.columnValue], misses: row.misses), meta)
            }
        }
    }

    /// Adds a column holding one numeric column divided by another (`NULL` where the
    /// denominator is 0 or `NULL`): `.ratio("acceptance_rate", "accepted", over: "sent")`.
    ///
    /// Both names are checked against the row's columns when the catalog is checked, before
    /// anything runs.
    /// - Parameters:
    ///   - name: The new column (nullable `REAL`).
    ///   - numerator: The column divided.
    ///   - denominator: The column divided by.
    public func ratio(_ name: String, _ numerator: String, over denominator: String) -> EventStream<ViewRow> {
        let input = schema
        let computed = column(name) { row -> Double? in
            guard let bottom = Double.fromColumn(row[denominator]), bottom != 0, let top = Double.fromColumn(row[numerator]) else { return nil }
            return top / bottom
        }
        return EventStream(schema: computed.schema) { graph, downstream in
            for source in [numerator, denominator] {
                guard let input, let column = input.columns.first(where: { $0.name == source }) else {
                    throw RunnelError(.pipeline, "pipeline \(graph.pipeline.name): ratio \(name) reads column \(source), which the rows do not have"
                                      + (input.map { "; they have \($0.columns.map(\.name).joined(separator: ", "))" } ?? ""),
                                      hint: "Name one of the window's or aggregate's columns")
                }
                guard column.type == "INTEGER" || column.type == "REAL" else {
                    throw RunnelError(.pipeline, "pipeline \(graph.pipeline.name): ratio \(name) reads column \(source), which holds \(column.type), not numbers")
                }
            }
            try computed.connect(graph, downstream)
        }
    }

    /// The rows' columns with `name` added, or an error naming why it cannot be.
    private static func extending(_ input: RowSchema?, _ output: RowSchema?, with name: String, _ graph: PipelineGraph) throws -> RowSchema {
        guard let input, let output else {
            throw RunnelError(.pipeline, "pipeline \(graph.pipeline.name): column \(name) follows a stage whose columns are not known",
                              hint: "Add computed columns right after a window or an aggregate")
        }
        guard input.index(of: name) == nil else {
            throw RunnelError(.pipeline, "pipeline \(graph.pipeline.name): column \(name) is already one of the rows' columns (\(input.columns.map(\.name).joined(separator: ", ")))",
                              hint: "Give the computed column a name of its own")
        }
        return output
    }
}
