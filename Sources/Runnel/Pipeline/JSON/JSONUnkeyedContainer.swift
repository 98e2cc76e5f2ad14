/// The unkeyed container over one JSON array of the tape: a cursor that steps from element to
/// element with the nodes' `next` index, never rescanning bytes.
///
/// Like `JSONDecoder`'s, it moves to the next element only when a decode succeeds. Its
/// references are unowned for the reason given in ``JSONTapeDecoder``.
struct JSONUnkeyedContainer: UnkeyedDecodingContainer {
    unowned(unsafe) let decoder: JSONTapeDecoder
    unowned(unsafe) let path: JSONCodingPath?
    let document: JSONDocument
    /// The tape index of the array.
    let array: Int
    private(set) var currentIndex = 0
    /// The tape index of the element at `currentIndex`.
    private var cursor: Int

    init(decoder: JSONTapeDecoder, array: Int, path: JSONCodingPath?) {
        self.decoder = decoder
        self.path = path
        self.document = decoder.document
        self.array = array
        cursor = array + 1
    }

    var codingPath: [any CodingKey] { JSONCodingPath.keys(of: path) }

    var count: Int? { Int(document.tape[array].length) }

    var isAtEnd: Bool { currentIndex >= Int(document.tape[array].length) }

    // MARK: - Decoding

    mutating func decodeNil() throws -> Bool {
        guard try document.tape[element(Never.self)].kind == .null else { return false }
        advance()
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool {
        try read(type) { try $0.bool(at: $1) }
    }

    mutating func decode(_ type: String.Type) throws -> String {
        try read(type) { try $0.string(at: $1) }
    }

    mutating func decode(_ type: Double.Type) throws -> Double {
        try read(type) { try $0.double(at: $1) }
    }

    mutating func decode(_ type: Float.Type) throws -> Float {
        try read(type) { try $0.float(at: $1) }
    }

    mutating func decode(_ type: Int.Type) throws -> Int {
        try read(type) { try $0.integer(type, at: $1) }
    }

    mutating func decode(_ type: Int8.Type) throws -> Int8 {
        try read(type) { try $0.integer(type, at: $1) }
    }

    mutating func decode(_ type: Int16.Type) throws -> Int16 {
        try read(type) { try $0.integer(type, at: $1) }
    }

    mutating func decode(_ type: Int32.Type) throws -> Int32 {
        try read(type) { try $0.integer(type, at: $1) }
    }

    mutating func decode(_ type: Int64.Type) throws -> Int64 {
        try read(type) { try $0.integer(type, at: $1) }
    }

    mutating func decode(_ type: UInt.Type) throws -> UInt {
        try read(type) { try $0.integer(type, at: $1) }
    }

    mutating func decode(_ type: UInt8.Type) throws -> UInt8 {
        try read(type) { try $0.integer(type, at: $1) }
    }

    mutating func decode(_ type: UInt16.Type) throws -> UInt16 {
        try read(type) { try $0.integer(type, at: $1) }
    }

    mutating func decode(_ type: UInt32.Type) throws -> UInt32 {
        try read(type) { try $0.integer(type, at: $1) }
    }

    mutating func decode(_ type: UInt64.Type) throws -> UInt64 {
        try read(type) { try $0.integer(type, at: $1) }
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let value = try decoder.decode(type, at: element(type), path: path, key: indexKey)
        advance()
        return value
    }

    // MARK: - Nesting

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let index = try element(KeyedDecodingContainer<NestedKey>.self)
        let container = try decoder.keyedContainer(keyedBy: type, at: index, path: decoder.retainedPath(path, appending: indexKey))
        advance()
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let index = try element((any UnkeyedDecodingContainer).self)
        let container = try decoder.unkeyedContainer(at: index, path: decoder.retainedPath(path, appending: indexKey))
        advance()
        return container
    }

    mutating func superDecoder() throws -> any Decoder {
        let index = try element((any Decoder).self)
        let superDecoder = decoder.superDecoder(at: index, path: JSONCodingPath(key: indexKey, parent: path))
        advance()
        return superDecoder
    }

    // MARK: - Helpers

    private var indexKey: JSONIndexKey { JSONIndexKey(index: currentIndex) }

    /// The tape index of the current element.
    /// - Throws: `DecodingError.valueNotFound` when every element has been decoded.
    private func element(_ type: Any.Type) throws -> Int {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, DecodingError.Context(
                codingPath: JSONCodingPath.keys(of: path, appending: indexKey),
                debugDescription: "the array at byte \(document.tape[array].start) has no element at index \(currentIndex); it has \(document.tape[array].length)"
            ))
        }
        return cursor
    }

    private mutating func advance() {
        cursor = Int(document.tape[cursor].next)
        currentIndex += 1
    }

    /// Reads the current element with `reader`, adding the coding path to its error, and moves
    /// past it.
    @inline(__always)
    private mutating func read<T>(_ type: T.Type, _ reader: (JSONDocument, Int) throws -> T) throws -> T {
        let index = try element(type)
        let value: T
        do {
            value = try reader(document, index)
        } catch let error as JSONValueError {
            throw error.decodingError(type, path: path, key: indexKey)
        }
        advance()
        return value
    }
}
