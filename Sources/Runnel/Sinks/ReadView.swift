import GRDB

/// How a read view takes rows.
public enum WriteMode: String, Sendable, Hashable {
    /// Insert, or replace the row with the same primary key (the view holds the latest answer).
    case upsert
    /// Insert every row (a log of facts; pair with `emit: .onClose` for windows).
    case append
}

/// A column of a read view fed by a typed stream: its name and how to draw it from an event.
public struct ViewColumn<Event>: Sendable {
    public let definition: ColumnDefinition
    let value: @Sendable (Event) -> DatabaseValue

    /// A column holding a field of the event.
    public init<Value: ColumnValue>(_ name: String, _ field: KeyPath<Event, Value> & Sendable) {
        definition = ColumnDefinition(name, Value.self)
        value = { $0[keyPath: field].columnValue }
    }

    /// A column computed from the event.
    public init<Value: ColumnValue>(_ name: String, _ compute: @escaping @Sendable (Event) -> Value) {
        definition = ColumnDefinition(name, Value.self)
        value = { compute($0).columnValue }
    }
}

/// Builds a read view's columns, one per line, over the stream's event type.
@resultBuilder
public enum ColumnsBuilder<Event> {
    public static func buildExpression(_ column: ViewColumn<Event>) -> [ViewColumn<Event>] { [column] }
    public static func buildBlock(_ parts: [ViewColumn<Event>]...) -> [ViewColumn<Event>] { parts.flatMap { $0 } }
}

/// A sink: a table in `derived.sqlite` that the pipeline creates, owns and writes in each
/// batch's transaction. `runnel inspect table NAME --db derived` reads it.
///
/// A stream of window or aggregate rows brings its own columns:
/// ```swift
/// .into(ReadView("member_engagement_5m", primaryKey: ["member_id", "window_start"]))
/// ```
/// A typed stream declares them:
/// ```swift
/// .into(ReadView("profile_changes", primaryKey: ["member_id"]) {
///     ViewColumn("member_id", \.memberId)
///     ViewColumn("headline", \.headline)
/// })
/// ```
public struct ReadView<Event>: Sendable {
    public let name: String
    public let primaryKey: [String]
    public let mode: WriteMode
    let columns: [ViewColumn<Event>]?

    /// A view whose columns are drawn from a typed stream's events.
    public init(_ name: String, primaryKey: [String], mode: WriteMode = .upsert, @ColumnsBuilder<Event> columns: () -> [ViewColumn<Event>]) {
        self.name = name
        self.primaryKey = primaryKey
        self.mode = mode
        self.columns = columns()
    }
}

extension ReadView where Event == ViewRow {
    /// A view of window or aggregate rows, with their columns.
    public init(_ name: String, primaryKey: [String], mode: WriteMode = .upsert) {
        self.name = name
        self.primaryKey = primaryKey
        self.mode = mode
        self.columns = nil
    }
}

/// A read view's table as the runtime creates and checks it.
struct ReadViewTable: Hashable, Sendable {
    let name: String
    let columns: [ColumnDefinition]
    let primaryKey: [String]
    let mode: WriteMode

    /// A view name is a plain SQL identifier: 1 to 100 ASCII letters, digits and `_`, not
    /// starting with a digit, so it needs no quotes in a query; and, as SQLite's table names
    /// ignore case, not starting `runnel_` or `sqlite_` in any case.
    static func validate(name: String, pipeline: String) throws {
        let bytes = Array(name.utf8)
        func isLetter(_ byte: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || byte == UInt8(ascii: "_") }
        func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        guard (1...100).contains(bytes.count), isLetter(bytes[0]), bytes.allSatisfy({ isLetter($0) || isDigit($0) }) else {
            throw RunnelError(.pipeline, "pipeline \(pipeline) names a read view \"\(name)\", which is not a plain SQL name",
                              hint: "Use 1 to 100 ASCII letters, digits and '_', starting with a letter or '_' (for example member_sessions)")
        }
        let lowered = name.lowercased()
        guard !lowered.hasPrefix("runnel_"), !lowered.hasPrefix("sqlite_") else {
            throw RunnelError(.pipeline, "pipeline \(pipeline) names a read view \"\(name)\"; names starting runnel_ or sqlite_ (in any case) are reserved",
                              hint: "Choose another name")
        }
    }

    func validate(pipeline: String) throws {
        try Self.validate(name: name, pipeline: pipeline)
        let names = columns.map(\.name)
        guard Set(names).count == names.count else {
            throw RunnelError(.pipeline, "read view \(name) of pipeline \(pipeline) has two columns with the same name: \(names.joined(separator: ", "))")
        }
        for key in primaryKey where !names.contains(key) {
            throw RunnelError(.pipeline, "read view \(name) of pipeline \(pipeline) has primary key column \(key), which is not one of its columns (\(names.joined(separator: ", ")))",
                              hint: "Name key columns from the list")
        }
        guard mode == .append || !primaryKey.isEmpty else {
            throw RunnelError(.pipeline, "read view \(name) of pipeline \(pipeline) is upserted but has no primary key",
                              hint: "Declare its primary key, or use mode: .append")
        }
    }

    var createSQL: String {
        var parts = columns.map(\.sql)
        if !primaryKey.isEmpty { parts.append("PRIMARY KEY (\(primaryKey.map(SQLIdentifier.quoted).joined(separator: ", ")))") }
        return "CREATE TABLE \(SQLIdentifier.quoted(name)) (\n    \(parts.joined(separator: ",\n    "))\n)"
    }

    var insertSQL: String {
        let names = columns.map { SQLIdentifier.quoted($0.name) }
        let insert = "INSERT INTO \(SQLIdentifier.quoted(name)) (\(names.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: names.count).joined(separator: ", ")))"
        guard mode == .upsert else { return insert }
        let updates = columns.map(\.name).filter { !primaryKey.contains($0) }.map { "\(SQLIdentifier.quoted($0)) = excluded.\(SQLIdentifier.quoted($0))" }
        let conflict = "ON CONFLICT (\(primaryKey.map(SQLIdentifier.quoted).joined(separator: ", ")))"
        return updates.isEmpty ? "\(insert) \(conflict) DO NOTHING" : "\(insert) \(conflict) DO UPDATE SET \(updates.joined(separator: ", "))"
    }

    var deleteSQL: String {
        "DELETE FROM \(SQLIdentifier.quoted(name)) WHERE " + primaryKey.map { "\(SQLIdentifier.quoted($0)) = ?" }.joined(separator: " AND ")
    }

    /// Creates the table, or checks that the one there has the declared columns.
    func prepare(_ db: Database, pipeline: String) throws {
        guard try db.tableExists(name) else {
            try db.execute(sql: createSQL)
            return
        }
        let existing = try Row.fetchAll(db, sql: "SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", arguments: [name])
        let existingNames = existing.map { $0["name"] as String }
        let existingKey = existing.filter { ($0["pk"] as Int) > 0 }.sorted { ($0["pk"] as Int) < ($1["pk"] as Int) }.map { $0["name"] as String }
        guard existingNames == columns.map(\.name), existingKey == primaryKey else {
            throw RunnelError(.pipelineVersion,
                              "read view \(name) in derived.sqlite has columns (\(existingNames.joined(separator: ", "))) and key (\(existingKey.joined(separator: ", "))), but pipeline \(pipeline) now declares (\(columns.map(\.name).joined(separator: ", "))) and key (\(primaryKey.joined(separator: ", ")))",
                              hint: "Bump the pipeline's version and run `runnel run \(pipeline) --rebuild` to rebuild the view from the log")
        }
    }
}

/// Writes a read view's rows in the batch's transaction, in the order they came (so a row
/// withdrawn and then written again ends up written).
final class ReadViewWriter: PipelineOperator {
    let table: ReadViewTable
    private let keyIndexes: [Int]
    private var pending: [(values: [DatabaseValue], isRetraction: Bool)] = []

    var shape: String {
        "view \(table.name) mode \(table.mode) key [\(table.primaryKey.joined(separator: ", "))] "
            + "columns [\(table.columns.map { "\($0.name) \($0.type)\($0.isNullable ? "?" : "")" }.joined(separator: ", "))]"
    }

    init(_ table: ReadViewTable) {
        self.table = table
        keyIndexes = table.primaryKey.compactMap { key in table.columns.firstIndex { $0.name == key } }
    }

    func take(_ values: [DatabaseValue], retraction: Bool) {
        // An appended view keeps what it was given; there is no row to withdraw.
        if retraction, table.mode == .append { return }
        pending.append((values, retraction))
    }

    func restore(_ db: Database, graph: PipelineGraph) throws {}

    func flush(_ db: Database, graph: PipelineGraph) throws {
        guard !pending.isEmpty else { return }
        let insert = try db.cachedStatement(sql: table.insertSQL)
        let delete = table.primaryKey.isEmpty ? nil : try db.cachedStatement(sql: table.deleteSQL)
        for (values, isRetraction) in pending {
            if isRetraction, let delete {
                try FastStatement.execute(delete, db) { handle in
                    for (position, index) in keyIndexes.enumerated() { FastStatement.bind(handle, Int32(position + 1), values[index]) }
                }
            } else {
                try FastStatement.execute(insert, db) { handle in
                    for (index, value) in values.enumerated() { FastStatement.bind(handle, Int32(index + 1), value) }
                }
            }
        }
        pending.removeAll(keepingCapacity: true)
    }
}

/// One output of a pipeline: a stream ending in a sink.
public struct PipelineOutput: Sendable {
    let connect: @Sendable (PipelineGraph) throws -> Void
}

extension EventStream {
    /// Ends the stream in a read view whose columns are declared with it.
    public func into(_ view: ReadView<Event>) -> PipelineOutput {
        PipelineOutput { graph in
            guard let columns = view.columns else {
                throw RunnelError(.pipeline, "read view \(view.name) of pipeline \(graph.pipeline.name) declares no columns",
                                  hint: "List its columns: ReadView(\"\(view.name)\", primaryKey: […]) { ViewColumn(\"id\", \\.id) … }")
            }
            let writer = try Self.makeWriter(ReadViewTable(name: view.name, columns: columns.map(\.definition), primaryKey: view.primaryKey, mode: view.mode), graph)
            try connect(graph) { event, meta in
                writer.take(columns.map { $0.value(event) }, retraction: meta.isRetraction)
            }
            graph.register(writer)
        }
    }

    fileprivate static func makeWriter(_ table: ReadViewTable, _ graph: PipelineGraph) throws -> ReadViewWriter {
        try table.validate(pipeline: graph.pipeline.name)
        try graph.declare(table)
        return ReadViewWriter(table)
    }
}

extension EventStream where Event == ViewRow {
    /// Ends a stream of window or aggregate rows in a read view with the rows' columns (or the
    /// columns it declares, drawn from the rows).
    public func into(_ view: ReadView<ViewRow>) -> PipelineOutput {
        let schema = schema
        return PipelineOutput { graph in
            if let columns = view.columns {
                let writer = try Self.makeWriter(ReadViewTable(name: view.name, columns: columns.map(\.definition), primaryKey: view.primaryKey, mode: view.mode), graph)
                try connect(graph) { row, meta in
                    let values = columns.map { $0.value(row) }
                    if graph.rejectsMissingColumns(meta, stage: "read view \(view.name)") { return }
                    writer.take(values, retraction: meta.isRetraction)
                }
                graph.register(writer)
                return
            }
            guard let schema else {
                throw RunnelError(.pipeline, "read view \(view.name) of pipeline \(graph.pipeline.name) follows a stage that changed the rows' shape, so it must declare its columns")
            }
            let writer = try Self.makeWriter(ReadViewTable(name: view.name, columns: schema.columns, primaryKey: view.primaryKey, mode: view.mode), graph)
            try connect(graph) { row, meta in writer.take(row.values, retraction: meta.isRetraction) }
            graph.register(writer)
        }
    }
}
