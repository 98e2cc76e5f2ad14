import Foundation

/// The `Decoder` that ``EventDecoder`` hands to `init(from:)`: it reads one scanned
/// ``JSONDocument``, borrowed for the duration of one `decode` call.
///
/// One instance serves a whole document (and a ``EventDecoder/Scratch`` keeps one for document
/// after document). Decoding a nested value moves ``current`` to the value and back, rather
/// than creating a decoder per value.
///
/// Containers refer to the decoder and to their coding path with `unowned(unsafe)`, which makes
/// them trivially copyable: the standard library's `KeyedDecodingContainer` box copies its
/// container on every `decode` call, and with strong references each copy cost a retain and a
/// release. This is safe because both outlive every container that a `Decodable` type can use
/// during `init(from:)`: the root decoder lives at least until `EventDecoder.decode` returns and keeps
/// the decoders it hands out for `superDecoder()` (``retained``), ``currentPath`` holds the path
/// of the value being decoded, and ``retained`` also holds the paths made for nested containers.
/// Like the pointer `withUnsafeBytes` hands out, a decoder or container must not be kept after
/// `init(from:)` returns.
///
/// Its stored properties skip Swift's dynamic exclusivity checks (`@exclusivity(unchecked)`):
/// a decoder serves one decode at a time on one thread, and the checks cost more per event
/// than the accesses they guard.
final class JSONTapeDecoder {
    /// The document, in storage of its own: a decoder that ``EventDecoder/Scratch`` keeps from
    /// one document to the next points it at each in turn, and the containers over the root
    /// object that it keeps (``rootContainers``) read the current one through it.
    private let documentStorage: UnsafeMutablePointer<JSONDocument>
    /// Whether this decoder allocated ``documentStorage``; those made for `superDecoder()`
    /// share their root's, which outlives them.
    private let ownsDocumentStorage: Bool
    /// The tape index of the value that `container(keyedBy:)`, `unkeyedContainer()` and
    /// `singleValueContainer()` read.
    @exclusivity(unchecked) private(set) var current: Int
    /// The coding path of ``current``; nil at the root.
    @exclusivity(unchecked) private(set) var currentPath: JSONCodingPath?
    /// Paths of nested containers and decoders handed out by `superDecoder()`, kept alive until
    /// this decoder goes away, because containers refer to them without retaining them.
    @exclusivity(unchecked) private var retained: [AnyObject] = []
    /// Whether this decoder is kept for document after document and keeps its root containers.
    private let keepsRootContainers: Bool
    /// For a kept decoder, the `KeyedDecodingContainer` made over the root object for each key
    /// type, as its one reference (the standard library's box; see ``keyedContainer(keyedBy:at:path:)``).
    @exclusivity(unchecked) private var rootContainers: [(key: ObjectIdentifier, container: AnyObject)] = []

    /// A decoder for one document.
    convenience init(document: JSONDocument, current: Int, path: JSONCodingPath?) {
        let storage = UnsafeMutablePointer<JSONDocument>.allocate(capacity: 1)
        storage.initialize(to: document)
        self.init(storage: storage, owns: true, current: current, path: path, keepsRootContainers: false)
    }

    /// A decoder kept for one document after another, each started with ``start(_:)``.
    convenience init() {
        let storage = UnsafeMutablePointer<JSONDocument>.allocate(capacity: 1)
        // Placeholders, never read: a kept decoder decodes only after `start(_:)`.
        storage.initialize(to: JSONDocument(bytes: UnsafePointer(bitPattern: 1)!, tape: UnsafePointer(bitPattern: MemoryLayout<JSONNode>.alignment)!))
        self.init(storage: storage, owns: true, current: 0, path: nil, keepsRootContainers: true)
    }

    private init(storage: UnsafeMutablePointer<JSONDocument>, owns: Bool, current: Int, path: JSONCodingPath?, keepsRootContainers: Bool) {
        documentStorage = storage
        ownsDocumentStorage = owns
        self.current = current
        currentPath = path
        self.keepsRootContainers = keepsRootContainers
    }

    deinit {
        guard ownsDocumentStorage else { return }
        documentStorage.deinitialize(count: 1)
        documentStorage.deallocate()
    }

    /// The document being decoded.
    var document: JSONDocument { documentStorage.pointee }

    /// Points a kept decoder at the next document, to decode from its root. Its current value
    /// is the root already: ``decode(_:at:path:key:)`` puts back what it moved, even when it
    /// throws.
    func start(_ document: JSONDocument) {
        precondition(keepsRootContainers, "start(_:) on a decoder made for one document")
        assert(current == 0 && currentPath == nil, "a kept decoder left off the root")
        documentStorage.pointee = document
        if !retained.isEmpty { retained.removeAll(keepingCapacity: true) }
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
        guard keepsRootContainers, index == 0, path == nil else {
            return KeyedDecodingContainer(JSONKeyedContainer<Key>(decoder: self, object: index, path: path))
        }
        // Making a `KeyedDecodingContainer` looks up the type metadata of its box and of our
        // container for `Key`, and allocates the box: most of the cost of decoding a small
        // event. A kept decoder makes one per key type for the root object (always tape index
        // 0) and hands it out again for every document; the container reads the document
        // through this decoder, so it reads the current one. `KeyedDecodingContainer` is a
        // struct of one reference, its box, which is what is kept.
        let key = ObjectIdentifier(Key.self)
        for entry in rootContainers where entry.key == key {
            return unsafeBitCast(entry.container, to: KeyedDecodingContainer<Key>.self)
        }
        let container = KeyedDecodingContainer(JSONKeyedContainer<Key>(decoder: self, object: 0, path: nil))
        if rootContainers.count < Self.rootContainersKept {
            rootContainers.append((key, unsafeBitCast(container, to: AnyObject.self)))
        }
        return container
    }

    /// How many key types a kept decoder keeps a root container for (an event type has one;
    /// a source decoding several types, one each).
    private static let rootContainersKept = 8

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
        let decoder = JSONTapeDecoder(storage: documentStorage, owns: false, current: index, path: path, keepsRootContainers: false)
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
