import Foundation
import GRDB

/// A Swift value a pipeline can put in a read-view column, group by, or keep in operator state.
///
/// Dates are stored as milliseconds since 1970 (`INTEGER`), like every Runnel timestamp; `Bool`
/// as 0 or 1. Optionals store `NULL` for nil.
public protocol ColumnValue: Sendable {
    /// The column's SQLite type: `INTEGER`, `REAL`, `TEXT` or `BLOB`.
    static var columnType: String { get }
    /// Whether the column may hold `NULL`.
    static var isNullable: Bool { get }
    /// The value as SQLite stores it.
    var columnValue: DatabaseValue { get }
    /// The value read back from SQLite (operator state restored after a restart).
    static func fromColumn(_ value: DatabaseValue) -> Self?
}

extension ColumnValue {
    public static var isNullable: Bool { false }
}

extension Int64: ColumnValue {
    public static var columnType: String { "INTEGER" }
    public var columnValue: DatabaseValue { databaseValue }
    public static func fromColumn(_ value: DatabaseValue) -> Int64? { Int64.fromDatabaseValue(value) }
}

extension Int: ColumnValue {
    public static var columnType: String { "INTEGER" }
    public var columnValue: DatabaseValue { databaseValue }
    public static func fromColumn(_ value: DatabaseValue) -> Int? { Int.fromDatabaseValue(value) }
}

extension Double: ColumnValue {
    public static var columnType: String { "REAL" }
    public var columnValue: DatabaseValue { databaseValue }
    public static func fromColumn(_ value: DatabaseValue) -> Double? { Double.fromDatabaseValue(value) }
}

extension String: ColumnValue {
    public static var columnType: String { "TEXT" }
    public var columnValue: DatabaseValue { databaseValue }
    public static func fromColumn(_ value: DatabaseValue) -> String? { String.fromDatabaseValue(value) }
}

extension Bool: ColumnValue {
    public static var columnType: String { "INTEGER" }
    public var columnValue: DatabaseValue { (self ? 1 : 0 as Int64).databaseValue }
    public static func fromColumn(_ value: DatabaseValue) -> Bool? { Int64.fromDatabaseValue(value).map { $0 != 0 } }
}

extension Date: ColumnValue {
    public static var columnType: String { "INTEGER" }
    public var columnValue: DatabaseValue { millisecondsSince1970.databaseValue }
    public static func fromColumn(_ value: DatabaseValue) -> Date? {
        Int64.fromDatabaseValue(value).map { Date(millisecondsSince1970: $0) }
    }
}

extension Data: ColumnValue {
    public static var columnType: String { "BLOB" }
    public var columnValue: DatabaseValue { databaseValue }
    public static func fromColumn(_ value: DatabaseValue) -> Data? { Data.fromDatabaseValue(value) }
}

extension Optional: ColumnValue where Wrapped: ColumnValue {
    public static var columnType: String { Wrapped.columnType }
    public static var isNullable: Bool { true }
    public var columnValue: DatabaseValue { self?.columnValue ?? .null }
    public static func fromColumn(_ value: DatabaseValue) -> Wrapped?? {
        value.isNull ? .some(nil) : Wrapped.fromColumn(value).map { .some($0) }
    }
}

/// A column of a read view or of an operator's output rows: its name, SQLite type and nullability.
public struct ColumnDefinition: Sendable, Hashable {
    public var name: String
    public var type: String
    public var isNullable: Bool

    package init(name: String, type: String, isNullable: Bool) {
        self.name = name
        self.type = type
        self.isNullable = isNullable
    }

    /// A column holding values of `Value`.
    package init<Value: ColumnValue>(_ name: String, _: Value.Type) {
        self.init(name: name, type: Value.columnType, isNullable: Value.isNullable)
    }

    /// The column as it appears in `CREATE TABLE`.
    var sql: String {
        "\(SQLIdentifier.quoted(name)) \(type)\(isNullable ? "" : " NOT NULL")"
    }
}
