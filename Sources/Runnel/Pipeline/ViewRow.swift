import GRDB

/// The shape of the rows an operator emits (a window's or an aggregate's): column names and
/// types, fixed when the pipeline is defined.
public final class RowSchema: Sendable {
    /// The columns, in order.
    public let columns: [ColumnDefinition]
    private let indexes: [String: Int]

    init(_ columns: [ColumnDefinition]) {
        self.columns = columns
        var indexes: [String: Int] = [:]
        for (index, column) in columns.enumerated() { indexes[column.name] = index }
        self.indexes = indexes
    }

    /// The position of the column named `name`, if there is one.
    public func index(of name: String) -> Int? { indexes[name] }
}

/// A row emitted by a window or a running aggregate: values in the order of its ``schema``.
///
/// Rows flow into a ``ReadView`` as they are; a later stage can read them by column name:
///
/// ```swift
/// .filter { ($0["events", as: Int64.self] ?? 0) > 100 }
/// ```
///
/// Reading a column the row does not have is never a silent `NULL` inside a pipeline: the stage
/// that read it (`filter`, `map`, `flatMap`, a view's column) sends the row to the dead-letter
/// table naming the column and the columns the row has, and the pipeline goes on.
public struct ViewRow: Sendable {
    /// The columns of the row.
    public let schema: RowSchema
    /// The values, one per column of ``schema``.
    public internal(set) var values: [DatabaseValue]
    /// Where the names of columns read but missing are noted, inside a running pipeline.
    let misses: ColumnMisses?

    init(schema: RowSchema, values: [DatabaseValue], misses: ColumnMisses? = nil) {
        self.schema = schema
        self.values = values
        self.misses = misses
    }

    /// The value of the column named `column` (`NULL` when there is no such column; inside a
    /// pipeline the row then goes to the dead-letter table).
    public subscript(column: String) -> DatabaseValue {
        guard let index = schema.index(of: column) else {
            misses?.note(column, in: self)
            return .null
        }
        return values[index]
    }

    /// The value of the column named `column` as `Value`, or nil when it is absent or `NULL`.
    public subscript<Value: ColumnValue>(column: String, as type: Value.Type) -> Value? {
        Value.fromColumn(self[column])
    }

    /// The row as a dictionary from column name to value.
    public var dictionary: [String: DatabaseValue] {
        Dictionary(uniqueKeysWithValues: zip(schema.columns.map(\.name), values))
    }
}

/// The names of columns a stage read from rows that lack them, noted by ``ViewRow`` and checked
/// by every stage after each call of its closure (one load and a branch when nothing is noted).
final class ColumnMisses: @unchecked Sendable {
    // @unchecked: a graph and its rows live on the one thread that runs the pipeline.
    private var names: [String] = []
    private var row: ViewRow?

    /// Whether a closure read a missing column since the last ``take(stage:)``.
    var isPending: Bool { !names.isEmpty }

    func note(_ column: String, in row: ViewRow) {
        names.append(column)
        self.row = row
    }

    /// The row and the problem noted since the last call, as a dead letter's error; clears them.
    func take(stage: String) -> (row: ViewRow, error: String)? {
        guard let row, !names.isEmpty else { return nil }
        defer {
            names.removeAll()
            self.row = nil
        }
        let missing = Array(Set(names)).sorted().map { "\"\($0)\"" }.joined(separator: ", ")
        return (row, "\(stage) read column \(missing), which the row does not have; it has \(row.schema.columns.map(\.name).joined(separator: ", "))")
    }
}
