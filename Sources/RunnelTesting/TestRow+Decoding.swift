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

        private func mismatch<T>(_ type: T.Type, _ key: Key, _ value: TestValue) -> DecodingError {
            .typeMismatch(type, .init(codingPath: [key], debugDescription: "column \(key.stringValue) holds \(value), not \(type)"))
        }

        func decodeNil(forKey key: Key) throws -> Bool { try value(key).isNull }

        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
            let value = try value(key)
            guard let integer = value.int64, integer == 0 || integer == 1 else { throw mismatch(type, key, value) }
            return integer == 1
        }

        func decode(_ type: String.Type, forKey key: Key) throws -> String {
            let value = try value(key)
            guard let text = value.string else { throw mismatch(type, key, value) }
            return text
        }

        func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
            let value = try value(key)
            guard let number = value.double else { throw mismatch(type, key, value) }
            return number
        }

        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try decode(Double.self, forKey: key)) }

        private func integer<T: BinaryInteger>(_ type: T.Type, _ key: Key) throws -> T {
            let value = try value(key)
            guard let integer = value.int64, let exact = T(exactly: integer) else { throw mismatch(type, key, value) }
            return exact
        }

        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(type, key) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(type, key) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(type, key) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(type, key) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(type, key) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(type, key) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(type, key) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(type, key) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(type, key) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(type, key) }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            let value = try value(key)
            if type == Date.self {
                guard let date = value.date else { throw mismatch(type, key, value) }
                return date as! T
            }
            if type == Data.self {
                guard let data = value.data else { throw mismatch(type, key, value) }
                return data as! T
            }
            if type == TestValue.self { return value as! T }
            // Anything else (an enum with a raw value, say) decodes from the single value.
            return try T(from: SingleValue(value: value, codingPath: [key]))
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

    /// One column's value, for types that decode from a single value (raw-value enums).
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
        func decode(_ type: Bool.Type) throws -> Bool {
            guard let integer = value.int64, integer == 0 || integer == 1 else { throw mismatch(type) }
            return integer == 1
        }
        func decode(_ type: String.Type) throws -> String {
            guard let text = value.string else { throw mismatch(type) }
            return text
        }
        func decode(_ type: Double.Type) throws -> Double {
            guard let number = value.double else { throw mismatch(type) }
            return number
        }
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            if let integer = value.int64, let exact = (type as? any BinaryInteger.Type)?.init(exactly: integer) as? T { return exact }
            if let number = value.double, type == Float.self { return Float(number) as! T }
            throw mismatch(type)
        }

        private func mismatch<T>(_ type: T.Type) -> DecodingError {
            .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "the column holds \(value), not \(type)"))
        }
    }

    /// `window_start` → `windowStart`.
    static func camelCase(_ column: String) -> String {
        let parts = column.split(separator: "_", omittingEmptySubsequences: true)
        guard let first = parts.first else { return column }
        return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}
