import Foundation
import GRDB
import Runnel

/// A value read from a table by ``PipelineTestDriver``: plain Swift values, printed as they
/// are (`Finance`, not `"Finance"`), compared with literals.
///
/// ```swift
/// #expect(row["industry"] == "Finance")
/// #expect(row["views"]?.int64 == 3)
/// let error = row["error"]?.string ?? "none"
/// ```
public enum TestValue: Sendable, Hashable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)

    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let integer): self = .integer(integer)
        case .double(let real): self = .real(real)
        case .string(let text): self = .text(text)
        case .blob(let data): self = .blob(data)
        }
    }

    /// The text, or nil for anything else.
    public var string: String? {
        if case .text(let text) = self { return text }
        return nil
    }

    /// The integer, or nil for anything else.
    public var int64: Int64? {
        if case .integer(let integer) = self { return integer }
        return nil
    }

    /// The number, integers included, or nil for anything else.
    public var double: Double? {
        switch self {
        case .integer(let integer): Double(integer)
        case .real(let real): real
        default: nil
        }
    }

    /// The integer read as milliseconds since 1970, the way Runnel stores times.
    public var date: Date? { int64.map { Date(timeIntervalSince1970: Double($0) / 1000) } }

    /// The bytes, or nil for anything else.
    public var data: Data? {
        if case .blob(let data) = self { return data }
        return nil
    }

    /// Whether the value is SQL `NULL`.
    public var isNull: Bool { self == .null }

    public var description: String {
        switch self {
        case .null: "NULL"
        case .integer(let integer): String(integer)
        case .real(let real): String(real)
        case .text(let text): text
        case .blob(let data): "<\(data.count) bytes>"
        }
    }
}

extension TestValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .real(value) }
}

/// A row read from a table by ``PipelineTestDriver``: its values by column name, or decoded
/// into a `Decodable` type of your own.
public struct TestRow: Sendable, CustomStringConvertible {
    /// The column names, in the table's order.
    public let columns: [String]
    /// The values, one per column.
    public let values: [TestValue]

    init(_ row: Row) {
        columns = Array(row.columnNames)
        values = row.databaseValues.map(TestValue.init)
    }

    /// The value of a column, or nil when the row has no such column (a typo reads nil, never
    /// a value that looks like `NULL`).
    public subscript(column: String) -> TestValue? {
        columns.firstIndex(of: column).map { values[$0] }
    }

    /// The row as a dictionary from column name to value.
    public var dictionary: [String: TestValue] {
        Dictionary(uniqueKeysWithValues: zip(columns, values))
    }

    /// Decodes the row into `Row`: snake_case columns fill camelCase properties
    /// (`window_start` → `windowStart`), integer columns fill `Date` properties as milliseconds
    /// since 1970 and `Bool` properties as 0 or 1, an optional property reads `NULL` as nil, and
    /// a column the type does not name is ignored.
    /// - Throws: `DecodingError` naming the property and the columns there are when a column is
    ///   missing or holds another type.
    public func decode<Row: Decodable>(as type: Row.Type) throws -> Row {
        try Row(from: RowDecoder(row: self))
    }

    public var description: String {
        zip(columns, values).map { "\($0): \($1)" }.joined(separator: ", ")
    }
}
