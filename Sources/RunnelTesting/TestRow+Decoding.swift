import Foundation

// Decoding a row into the test's own type, column by column: snake_case columns fill camelCase
// properties, integers fill `Bool`s (0 or 1, as Runnel stores them) and `Date`s (milliseconds
// since 1970), and an optional property reads `NULL` as nil.

extension TestRow {
    /// A decoder over one row's columns.
    struct RowDecoder: Decoder {
        let row: TestRow
        var codingPath: [any CodingKey] = []
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            KeyedDecodingContainer(Columns<Key>(row: row))
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: "a row decodes into a struct with one property per column, not an array"))
        }

        func singleValueContainer() throws -> any SingleValueDecodingContainer {
            throw DecodingError.typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "a row decodes into a struct with one property per column"))
        }
    }

    /// The row's columns by the camelCase name of their snake_case column.
    struct Columns<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let row: TestRow
        var codingPath: [any CodingKey] { [] }

        var allKeys: [Key] { row.columns.compactMap { Key(stringValue: TestRow.camelCase($0)) } }

        func contains(_ key: Key) -> Bool { column(key) != nil }

        private func column(_ key: Key) -> Int? {
            row.columns.firstIndex { $0 == key.stringValue || TestRow.camelCase($0) == key.stringValue }
        }

        private func value(_ key: Key) throws -> TestValue {
            guard let index = column(key) else {
                throw DecodingError.keyNotFound(key, .init(codingPath: [key], debugDescription:
                    "the row has no column for \(key.stringValue); it has \(row.columns.joined(separator: ", "))"))
            }
            return row.values[index]
        }

        func decodeNil(forKey key: Key) throws -> Bool { try value(key).isNull }

        /// Every type, the primitives included (a generic method witnesses each of the
        /// protocol's `decode(_:forKey:)` requirements), decodes from the column's value.
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try SingleValue(value: value(key), codingPath: [key]).decode(type)
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            throw DecodingError.typeMismatch(type, .init(codingPath: [key], debugDescription: "column \(key.stringValue) is one value, not a nested object"))
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: [key], debugDescription: "column \(key.stringValue) is one value, not an array"))
        }

        func superDecoder() throws -> any Decoder { RowDecoder(row: row) }
        func superDecoder(forKey key: Key) throws -> any Decoder { RowDecoder(row: row) }
    }

    /// One column's value, decoded into a primitive or into a type that decodes from a single
    /// value (a raw-value enum).
    struct SingleValue: Decoder, SingleValueDecodingContainer {
        let value: TestValue
        let codingPath: [any CodingKey]
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            throw DecodingError.typeMismatch(type, .init(codingPath: codingPath, debugDescription: "a column is one value, not a nested object"))
        }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: "a column is one value, not an array"))
        }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

        func decodeNil() -> Bool { value.isNull }

        /// The value as `T`, chosen at run time, so this one method witnesses every primitive
        /// requirement of the protocol and serves the keyed container too.
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let decoded: Any?
            switch type {
            case is Bool.Type: decoded = value.int64.flatMap { $0 == 0 || $0 == 1 ? $0 == 1 : nil }
            case is String.Type: decoded = value.string
            case is Double.Type: decoded = value.double
            case is Float.Type: decoded = value.double.map { Float($0) }
            case is Date.Type: decoded = value.date
            case is Data.Type: decoded = value.data
            case is TestValue.Type: decoded = value
            case let integer as any BinaryInteger.Type: decoded = value.int64.flatMap { (whole: Int64) -> (any BinaryInteger)? in integer.init(exactly: whole) }
            // Anything else (an enum with a raw value, say) decodes itself from this value.
            default: return try T(from: self)
            }
            guard let decoded = decoded as? T else {
                let column = codingPath.last.map { "column \($0.stringValue)" } ?? "the column"
                throw DecodingError.typeMismatch(type, .init(codingPath: codingPath, debugDescription: "\(column) holds \(value), not \(type)"))
            }
            return decoded
        }
    }

    /// `window_start` → `windowStart`.
    static func camelCase(_ column: String) -> String {
        let parts = column.split(separator: "_", omittingEmptySubsequences: true)
        guard let first = parts.first else { return column }
        return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}
