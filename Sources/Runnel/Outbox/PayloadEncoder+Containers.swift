/// The `Encoder` a value of a ``PayloadEncoder`` payload encodes itself with: it opens one
/// container (or writes one single value) at the writer's current position.
final class PayloadValueEncoder: Encoder {
    /// What the value has asked for so far.
    private enum State {
        case nothing
        case container(id: Int)
        case single(written: Bool)
    }

    let writer: PayloadWriter
    private let parent: PayloadValueEncoder?
    private let path: [any CodingKey]
    @exclusivity(unchecked) private var state = State.nothing
    /// The writer's open containers when the value started: it may only write inside them.
    private let depth: Int

    /// - Parameters:
    ///   - parent: The encoder of the value holding this one, nil at the top.
    ///   - path: The keys from the parent encoder's coding path to this value.
    init(writer: PayloadWriter, parent: PayloadValueEncoder?, path: [any CodingKey]) {
        self.writer = writer
        self.parent = parent
        self.path = path
        depth = writer.frames.count
    }

    var codingPath: [any CodingKey] {
        guard let parent else { return path }
        return parent.codingPath + path
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// Opens the value's container, once.
    private func open(object: Bool) -> Int {
        guard case .nothing = state, !writer.gaveUp, writer.frames.count == depth else {
            _ = writer.giveUp()
            return 0
        }
        let id = writer.open(object: object, ownedByEncoder: true)
        state = .container(id: id)
        return id
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(PayloadKeyedContainer<Key>(encoder: self, id: open(object: true), path: []))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        PayloadUnkeyedContainer(encoder: self, id: open(object: false), path: [])
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        if case .nothing = state {
            state = .single(written: false)
        } else {
            _ = writer.giveUp()
        }
        return PayloadSingleValueContainer(encoder: self)
    }

    /// Checks that the single value may be written now, and counts it as written.
    func willWriteSingleValue() throws {
        guard case .single(written: false) = state, !writer.gaveUp, writer.frames.count == depth else {
            throw writer.giveUp()
        }
        state = .single(written: true)
    }

    /// Ends the value once its `encode(to:)` has returned: closes its container.
    /// - Throws: When the value wrote nothing, or left the writer elsewhere than it found it.
    func finish() throws {
        switch state {
        case .nothing, .single(written: false):
            throw writer.giveUp()
        case .single(written: true):
            break
        case .container(let id):
            try writer.close(ownedBy: id)
        }
        guard writer.frames.count == depth else { throw writer.giveUp() }
    }
}

/// A key for an array element's coding path.
private struct ElementKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

/// An object of a ``PayloadEncoder`` payload.
struct PayloadKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: PayloadValueEncoder
    /// The container's identity in the writer; 0 once the writer has given up.
    let id: Int
    /// The keys from the encoder's coding path to this container (nested containers).
    let path: [any CodingKey]

    private var writer: PayloadWriter { encoder.writer }

    var codingPath: [any CodingKey] { encoder.codingPath + path }

    /// Writes one member: the key, then what `value` writes.
    private func member(_ key: Key, _ value: () throws -> Void) throws {
        let index = try writer.beginMember(of: id, key: key.stringValue)
        try writer.failing(value)
        writer.endMember(index)
    }

    mutating func encodeNil(forKey key: Key) throws { try member(key) { writer.writeNull() } }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try member(key) { writer.writeBool(value) } }
    mutating func encode(_ value: String, forKey key: Key) throws { try member(key) { writer.writeString(value) } }
    mutating func encode(_ value: Double, forKey key: Key) throws { try member(key) { try writer.writeDouble(value) } }
    mutating func encode(_ value: Float, forKey key: Key) throws { try member(key) { try writer.writeFloat(value) } }
    mutating func encode(_ value: Int, forKey key: Key) throws { try member(key) { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try member(key) { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try member(key) { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try member(key) { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try member(key) { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try member(key) { writer.writeUnsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try member(key) { writer.writeUnsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try member(key) { writer.writeUnsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try member(key) { writer.writeUnsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try member(key) { writer.writeUnsigned(value) } }
    mutating func encode(_ value: Int128, forKey key: Key) throws { throw writer.giveUp() }
    mutating func encode(_ value: UInt128, forKey key: Key) throws { throw writer.giveUp() }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try member(key) { try writer.write(value, parent: encoder) { path + [key] } }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(PayloadKeyedContainer<NestedKey>(encoder: encoder, id: openNested(object: true, key), path: path + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        PayloadUnkeyedContainer(encoder: encoder, id: openNested(object: false, key), path: path + [key])
    }

    /// Opens a container as the value of member `key`; 0 if the writer gives up.
    private func openNested(object: Bool, _ key: Key) -> Int {
        guard let index = try? writer.beginMember(of: id, key: key.stringValue) else { return 0 }
        return writer.open(object: object, ownedByEncoder: false, parentMember: index)
    }

    mutating func superEncoder() -> any Encoder { giveUpWithEncoder() }
    mutating func superEncoder(forKey key: Key) -> any Encoder { giveUpWithEncoder() }

    private func giveUpWithEncoder() -> any Encoder {
        _ = writer.giveUp()
        return PayloadValueEncoder(writer: writer, parent: encoder, path: path)
    }
}

/// An array of a ``PayloadEncoder`` payload.
struct PayloadUnkeyedContainer: UnkeyedEncodingContainer {
    let encoder: PayloadValueEncoder
    /// The container's identity in the writer; 0 once the writer has given up.
    let id: Int
    let path: [any CodingKey]
    private(set) var count = 0

    init(encoder: PayloadValueEncoder, id: Int, path: [any CodingKey]) {
        self.encoder = encoder
        self.id = id
        self.path = path
    }

    private var writer: PayloadWriter { encoder.writer }

    var codingPath: [any CodingKey] { encoder.codingPath + path }

    /// Writes one element.
    private mutating func element(_ value: (PayloadWriter) throws -> Void) throws {
        let writer = writer
        try writer.beginElement(of: id)
        count += 1
        try writer.failing { try value(writer) }
    }

    mutating func encodeNil() throws { try element { $0.writeNull() } }
    mutating func encode(_ value: Bool) throws { try element { $0.writeBool(value) } }
    mutating func encode(_ value: String) throws { try element { $0.writeString(value) } }
    mutating func encode(_ value: Double) throws { try element { try $0.writeDouble(value) } }
    mutating func encode(_ value: Float) throws { try element { try $0.writeFloat(value) } }
    mutating func encode(_ value: Int) throws { try element { $0.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int8) throws { try element { $0.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int16) throws { try element { $0.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int32) throws { try element { $0.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int64) throws { try element { $0.writeInteger(value) } }
    mutating func encode(_ value: UInt) throws { try element { $0.writeUnsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt8) throws { try element { $0.writeUnsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt16) throws { try element { $0.writeUnsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt32) throws { try element { $0.writeUnsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt64) throws { try element { $0.writeUnsigned(value) } }
    mutating func encode(_ value: Int128) throws { throw writer.giveUp() }
    mutating func encode(_ value: UInt128) throws { throw writer.giveUp() }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let key = ElementKey(index: count)
        let (path, encoder) = (path, encoder)
        try element { try $0.write(value, parent: encoder) { path + [key] } }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let key = ElementKey(index: count)
        return KeyedEncodingContainer(PayloadKeyedContainer<NestedKey>(encoder: encoder, id: openNested(object: true), path: path + [key]))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let key = ElementKey(index: count)
        return PayloadUnkeyedContainer(encoder: encoder, id: openNested(object: false), path: path + [key])
    }

    /// Opens a container as the next element; 0 if the writer gives up.
    private mutating func openNested(object: Bool) -> Int {
        guard (try? writer.beginElement(of: id)) != nil else { return 0 }
        count += 1
        return writer.open(object: object, ownedByEncoder: false)
    }

    mutating func superEncoder() -> any Encoder {
        _ = writer.giveUp()
        return PayloadValueEncoder(writer: writer, parent: encoder, path: path)
    }
}

/// The single value of a ``PayloadEncoder`` value.
struct PayloadSingleValueContainer: SingleValueEncodingContainer {
    let encoder: PayloadValueEncoder

    private var writer: PayloadWriter { encoder.writer }

    var codingPath: [any CodingKey] { encoder.codingPath }

    private func single(_ value: () throws -> Void) throws {
        try encoder.willWriteSingleValue()
        try writer.failing(value)
    }

    mutating func encodeNil() throws { try single { writer.writeNull() } }
    mutating func encode(_ value: Bool) throws { try single { writer.writeBool(value) } }
    mutating func encode(_ value: String) throws { try single { writer.writeString(value) } }
    mutating func encode(_ value: Double) throws { try single { try writer.writeDouble(value) } }
    mutating func encode(_ value: Float) throws { try single { try writer.writeFloat(value) } }
    mutating func encode(_ value: Int) throws { try single { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int8) throws { try single { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int16) throws { try single { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int32) throws { try single { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int64) throws { try single { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt) throws { try single { writer.writeUnsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt8) throws { try single { writer.writeUnsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt16) throws { try single { writer.writeUnsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt32) throws { try single { writer.writeUnsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt64) throws { try single { writer.writeUnsigned(value) } }
    mutating func encode(_ value: Int128) throws { throw writer.giveUp() }
    mutating func encode(_ value: UInt128) throws { throw writer.giveUp() }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try single { try writer.write(value, parent: encoder) { [] } }
    }
}
