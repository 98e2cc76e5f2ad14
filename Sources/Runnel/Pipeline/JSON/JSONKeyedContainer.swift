/// The keyed container over one JSON object of the tape.
///
/// It holds no per-key state: a lookup walks the object's keys on the tape (an event has about
/// eight) comparing bytes, and each `decode` overload goes straight to its reader on the
/// ``JSONDocument``, so decoding a field allocates nothing beyond the value itself and touches
/// no reference count. It is trivially copyable (see ``JSONTapeDecoder`` for why its references
/// are unowned).
struct JSONKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    unowned(unsafe) let decoder: JSONTapeDecoder
    unowned(unsafe) let path: JSONCodingPath?
    /// The tape index of the object.
    let object: Int

    /// The decoder's document: read through it, because a decoder kept from document to
    /// document hands the same root container out for each.
    var document: JSONDocument { decoder.document }

    init(decoder: JSONTapeDecoder, object: Int, path: JSONCodingPath?) {
        self.decoder = decoder
        self.path = path
        self.object = object
    }

    var codingPath: [any CodingKey] { JSONCodingPath.keys(of: path) }

    /// The object's keys that `Key` knows, each once (the first of duplicates counts).
    var allKeys: [Key] {
        var seen = Set<String>()
        var keys: [Key] = []
        document.forEachKey(of: object) { keyIndex in
            let name = document.makeString(document.tape[keyIndex])
            if seen.insert(name).inserted, let key = Key(stringValue: name) {
                keys.append(key)
            }
        }
        return keys
    }

    func contains(_ key: Key) -> Bool {
        document.valueIndex(in: object, forKey: key.stringValue) != nil
    }

    // MARK: - Decoding

    func decodeNil(forKey key: Key) throws -> Bool {
        try document.tape[value(for: key)].kind == .null
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        try read(type, key) { try $0.bool(at: $1) }
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        try read(type, key) { try $0.string(at: $1) }
    }

    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        try read(type, key) { try $0.double(at: $1) }
    }

    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        try read(type, key) { try $0.float(at: $1) }
    }

    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        try read(type, key) { try $0.integer(type, at: $1) }
    }

    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 {
        try read(type, key) { try $0.integer(type, at: $1) }
    }

    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 {
        try read(type, key) { try $0.integer(type, at: $1) }
    }

    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 {
        try read(type, key) { try $0.integer(type, at: $1) }
    }

    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
        try read(type, key) { try $0.integer(type, at: $1) }
    }

    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt {
        try read(type, key) { try $0.integer(type, at: $1) }
    }

    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 {
        try read(type, key) { try $0.integer(type, at: $1) }
    }

    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 {
        try read(type, key) { try $0.integer(type, at: $1) }
    }

    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 {
        try read(type, key) { try $0.integer(type, at: $1) }
    }

    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 {
        try read(type, key) { try $0.integer(type, at: $1) }
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        if JSONDocument.readsDirectly(type) {
            // Dates and the like go straight to the document, without the decoder.
            return try read(type, key) { try $0.value(type, at: $1) }
        }
        return try decoder.decode(type, at: value(for: key), path: path, key: key)
    }

    // MARK: - Decoding if present

    // One lookup each: the protocol's default versions look the key up three times
    // (`contains`, `decodeNil`, `decode`).

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        try readIfPresent(type, key) { try $0.bool(at: $1) }
    }

    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        try readIfPresent(type, key) { try $0.string(at: $1) }
    }

    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        try readIfPresent(type, key) { try $0.double(at: $1) }
    }

    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? {
        try readIfPresent(type, key) { try $0.float(at: $1) }
    }

    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        try readIfPresent(type, key) { try $0.integer(type, at: $1) }
    }

    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? {
        try readIfPresent(type, key) { try $0.integer(type, at: $1) }
    }

    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? {
        try readIfPresent(type, key) { try $0.integer(type, at: $1) }
    }

    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? {
        try readIfPresent(type, key) { try $0.integer(type, at: $1) }
    }

    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        try readIfPresent(type, key) { try $0.integer(type, at: $1) }
    }

    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? {
        try readIfPresent(type, key) { try $0.integer(type, at: $1) }
    }

    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? {
        try readIfPresent(type, key) { try $0.integer(type, at: $1) }
    }

    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? {
        try readIfPresent(type, key) { try $0.integer(type, at: $1) }
    }

    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? {
        try readIfPresent(type, key) { try $0.integer(type, at: $1) }
    }

    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? {
        try readIfPresent(type, key) { try $0.integer(type, at: $1) }
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        if JSONDocument.readsDirectly(type) {
            return try readIfPresent(type, key) { try $0.value(type, at: $1) }
        }
        guard let index = presentValue(for: key) else { return nil }
        return try decoder.decode(type, at: index, path: path, key: key)
    }

    // MARK: - Nesting

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder.keyedContainer(keyedBy: type, at: value(for: key), path: decoder.retainedPath(path, appending: key))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder.unkeyedContainer(at: value(for: key), path: decoder.retainedPath(path, appending: key))
    }

    /// A decoder for the value of the key "super".
    /// - Throws: `DecodingError.keyNotFound` when there is none (`JSONDecoder` decodes null
    ///   instead; a missing superclass payload is more likely a bug than a choice).
    func superDecoder() throws -> any Decoder {
        let key = JSONSuperKey()
        guard let index = document.valueIndex(in: object, forKey: key.stringValue) else {
            throw keyNotFound(key)
        }
        return decoder.superDecoder(at: index, path: JSONCodingPath(key: key, parent: path))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        try decoder.superDecoder(at: value(for: key), path: JSONCodingPath(key: key, parent: path))
    }

    // MARK: - Helpers

    /// The tape index of the key's value.
    /// - Throws: `DecodingError.keyNotFound` when the object has no such key.
    private func value(for key: Key) throws -> Int {
        guard let index = document.valueIndex(in: object, forKey: key.stringValue) else {
            throw keyNotFound(key)
        }
        return index
    }

    /// The tape index of the key's value, or nil when the key is missing or its value is null.
    private func presentValue(for key: Key) -> Int? {
        guard let index = document.valueIndex(in: object, forKey: key.stringValue), document.tape[index].kind != .null else {
            return nil
        }
        return index
    }

    /// Reads the key's value with `reader`, adding the coding path to its error.
    @inline(__always)
    private func read<T>(_ type: T.Type, _ key: Key, _ reader: (JSONDocument, Int) throws -> T) throws -> T {
        let index = try value(for: key)
        do {
            return try reader(document, index)
        } catch let error as JSONValueError {
            throw error.decodingError(type, path: path, key: key)
        }
    }

    /// Like ``read(_:_:_:)``, but nil for a missing key or a null value.
    @inline(__always)
    private func readIfPresent<T>(_ type: T.Type, _ key: Key, _ reader: (JSONDocument, Int) throws -> T) throws -> T? {
        guard let index = presentValue(for: key) else { return nil }
        do {
            return try reader(document, index)
        } catch let error as JSONValueError {
            throw error.decodingError(type, path: path, key: key)
        }
    }

    private func keyNotFound(_ key: some CodingKey) -> DecodingError {
        .keyNotFound(key, DecodingError.Context(
            codingPath: JSONCodingPath.keys(of: path),
            debugDescription: "the object at byte \(document.tape[object].start) has no key \"\(key.stringValue)\""
        ))
    }
}
