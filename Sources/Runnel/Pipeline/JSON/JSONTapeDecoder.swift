import Foundation

/// The `Decoder` that ``EventDecoder`` hands to `init(from:)`: it reads one scanned
/// ``JSONDocument``, borrowed for the duration of one `decode` call.
///
/// One instance serves a whole document. Decoding a nested value moves ``current`` to the value
/// and back, rather than creating a decoder per value.
///
/// Containers refer to the decoder and to their coding path with `unowned(unsafe)`, which makes
/// them trivially copyable: the standard library's `KeyedDecodingContainer` box copies its
/// container on every `decode` call, and with strong references each copy cost a retain and a
/// release. This is safe because both outlive every container that a `Decodable` type can use
/// during `init(from:)`: the root decoder lives until `EventDecoder.decode` returns and keeps
/// the decoders it hands out for `superDecoder()` (``retained``), ``currentPath`` holds the path
/// of the value being decoded, and ``retained`` also holds the paths made for nested containers.
/// Like the pointer `withUnsafeBytes` hands out, a decoder or container must not be kept after
/// `init(from:)` returns.
final class JSONTapeDecoder {
    let document: JSONDocument
    /// The tape index of the value that `container(keyedBy:)`, `unkeyedContainer()` and
    /// `singleValueContainer()` read.
    private(set) var current: Int
    /// The coding path of ``current``; nil at the root.
    private(set) var currentPath: JSONCodingPath?
    /// Paths of nested containers and decoders handed out by `superDecoder()`, kept alive until
    /// this decoder goes away, because containers refer to them without retaining them.
    private var retained: [AnyObject] = []

    init(document: JSONDocument, current: Int, path: JSONCodingPath?) {
        self.document = document
        self.current = current
        self.currentPath = path
    }

    /// Decodes a `T` from the value at tape index `index`, whose container is at `path` and
    /// which that container reaches through `key` (nil for a single-value container).
    func decode<T: Decodable>(_ type: T.Type, at index: Int, path: JSONCodingPath?, key: (any CodingKey)?) throws -> T {
        if JSONDocument.readsDirectly(T.self) {
            do {
                return try document.value(T.self, at: index)
            } catch {
                throw error.decodingError(T.self, path: path, key: key)
            }
        }
        let savedIndex = current
        let savedPath = currentPath
        current = index
        if let key { currentPath = JSONCodingPath(key: key, parent: path) } else { currentPath = path }
        defer {
            current = savedIndex
            currentPath = savedPath
        }
        return try T(from: self)
    }

    /// A keyed container over the object at `index`.
    func keyedContainer<Key: CodingKey>(keyedBy type: Key.Type, at index: Int, path: JSONCodingPath?) throws -> KeyedDecodingContainer<Key> {
        guard document.tape[index].kind == .object else {
            throw document.mismatch(expected: "an object", at: index).decodingError([String: Any].self, path: path, key: nil)
        }
        return KeyedDecodingContainer(JSONKeyedContainer<Key>(decoder: self, object: index, path: path))
    }

    /// An unkeyed container over the array at `index`.
    func unkeyedContainer(at index: Int, path: JSONCodingPath?) throws -> JSONUnkeyedContainer {
        guard document.tape[index].kind == .array else {
            throw document.mismatch(expected: "an array", at: index).decodingError([Any].self, path: path, key: nil)
        }
        return JSONUnkeyedContainer(decoder: self, array: index, path: path)
    }

    /// `path` followed by `key`, kept alive as long as the decoder, for a nested container.
    func retainedPath(_ path: JSONCodingPath?, appending key: any CodingKey) -> JSONCodingPath {
        let nested = JSONCodingPath(key: key, parent: path)
        retained.append(nested)
        return nested
    }

    /// A decoder for the value at `index`, for `superDecoder()`, kept alive as long as this one.
    func superDecoder(at index: Int, path: JSONCodingPath?) -> JSONTapeDecoder {
        let decoder = JSONTapeDecoder(document: document, current: index, path: path)
        retained.append(decoder)
        return decoder
    }
}

// MARK: - Decoder

extension JSONTapeDecoder: Decoder {
    var codingPath: [any CodingKey] { JSONCodingPath.keys(of: currentPath) }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        try keyedContainer(keyedBy: type, at: current, path: currentPath)
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try unkeyedContainer(at: current, path: currentPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        self
    }
}
