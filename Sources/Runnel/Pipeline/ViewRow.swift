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
public struct ViewRow: Sendable {
    /// The columns of the row.
    public let schema: RowSchema
    /// The values, one per column of ``schema``.
    public internal(set) var values: [DatabaseValue]

    init(schema: RowSchema, values: [DatabaseValue]) {
        self.schema = schema
        self.values = values
    }

    /// The value of the column named `column` (`NULL` when there is no such column).
    public subscript(column: String) -> DatabaseValue {
        schema.index(of: column).map { values[$0] } ?? .null
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
