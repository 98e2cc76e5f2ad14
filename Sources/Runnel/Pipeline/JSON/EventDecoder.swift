import Foundation

/// Decodes `Decodable` values from JSON bytes with a byte-level scanner, for the pipeline's hot
/// path: what Foundation's `JSONDecoder` set up like ``Outbox/makeDecoder()`` returns, several
/// times faster.
///
/// ```swift
/// let decoder = EventDecoder()
/// try partition.forEachRecord(from: offset) { record in
///     guard let value = record.value else { return true }  // a tombstone
///     let event = try decoder.decode(ActivityRecorded.self, from: value)
///     …
///     return true
/// }
/// ```
///
/// A call works in two steps. ``JSONScanner`` checks the whole document against RFC 8259 in one
/// pass and writes a tape of 16-byte nodes (``JSONNode``) on the stack; then `init(from:)` reads
/// the tape. Keys are matched by comparing bytes with `CodingKey.stringValue`, plain strings are
/// copied straight from the bytes, integers are parsed exactly, so a flat event costs two small
/// allocations (the decoder and its keyed container) plus its own strings of 16 bytes or more.
///
/// It reads what ``Outbox/makeEncoder()`` writes: keys as written (no conversion), `Date` as
/// milliseconds since 1970, `Data` as Base64, `URL` as a string, `Decimal` from the number's
/// digits. Where it differs from `JSONDecoder`, it is stricter on input `JSONEncoder` never writes:
/// - A comma before a closing bracket (`[1,]`, `{"a":1,}`) is an error; `JSONDecoder` accepts it.
/// - Every string and number is checked, including those of keys no type reads; `JSONDecoder`
///   checks only the values it converts.
/// - A number decoded as an integer must be whole exactly: `1.0`, `1e2` and `100e-2` are fine, but
///   `1.00000000000000000001` is an error where `JSONDecoder` rounds it to 1 through a `Double`.
/// - Zero written with an exponent (`0e5`) is 0; `JSONDecoder` rejects some such spellings.
/// - `superDecoder()` throws `keyNotFound` when the object has no "super" key.
/// - A `CodingKey` spelled with U+037E, U+1FEF or U+212A does not match the ASCII character
///   those canonically equal (`;`, `` ` ``, `K`) in a key of the document.
///
/// Like the bytes, the `Decoder` and containers handed to `init(from:)` are valid only during
/// the call: a `Decodable` type must not keep them. The `EventDecoder` value is sendable and
/// holds no state: concurrent calls from any number of threads are independent.
package struct EventDecoder: Sendable {
    /// Creates a decoder. It has no options: the encoding is Runnel's (see ``Outbox/makeEncoder()``).
    package init() {}

    /// Decodes a value of type `T` from the JSON document in `bytes`.
    ///
    /// The bytes are read only during the call; nothing refers to them afterwards.
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - bytes: One JSON document in UTF-8, optionally starting with a byte order mark.
    /// - Returns: The decoded value.
    /// - Throws: `DecodingError`: `.dataCorrupted` for a document that is not JSON (the message
    ///   names the byte offset and what was expected) or a number that does not fit its type;
    ///   `.keyNotFound`, `.typeMismatch` and `.valueNotFound` with the coding path of the value
    ///   and its byte offset.
    package func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        try decode(type, from: bytes, reusing: nil)
    }

    /// Decodes a value of type `T` from the JSON document in `bytes`, scanning it into
    /// `scratch`'s tape, which stays allocated for the next call, rather than into a tape
    /// allocated for this one. For a caller decoding one document after another, as a
    /// pipeline's source does: a temporary allocation of a size known only at run time costs
    /// a type-metadata lookup and, in generic code, more than scanning a small event.
    /// - Parameter scratch: Used by one call at a time.
    package func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer, reusing scratch: Scratch?) throws -> T {
        guard let base = bytes.baseAddress, !bytes.isEmpty else {
            throw DecodingError.dataCorrupted(DecodingError.Context(
                codingPath: [], debugDescription: "The given data is not valid JSON: the document is empty."
            ))
        }
        guard bytes.count < Int(UInt32.max) else {
            throw DecodingError.dataCorrupted(DecodingError.Context(
                codingPath: [], debugDescription: "The document is \(bytes.count) bytes; EventDecoder reads documents under 4 GiB. Use JSONDecoder for larger ones."
            ))
        }
        let document = base.assumingMemoryBound(to: UInt8.self)
        do {
            return try decode(type, from: document, count: bytes.count, tapeCapacity: JSONScanner.tapeCapacity(forValidDocumentOf: bytes.count), scratch: scratch)
        } catch is JSONScanner.TapeFull {
            // Only a broken document outgrows that tape; scanning it again with room for one node
            // per byte finds and reports its first error.
            return try decode(type, from: document, count: bytes.count, tapeCapacity: JSONScanner.tapeCapacity(forAnyDocumentOf: bytes.count), scratch: scratch)
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, from document: UnsafePointer<UInt8>, count: Int, tapeCapacity: Int, scratch: Scratch?) throws -> T {
        if let scratch, let tape = scratch.tape(capacity: tapeCapacity) {
            return try decode(type, from: document, count: count, tape: tape, capacity: tapeCapacity, decoder: scratch.decoder)
        }
        return try decodeWithTemporaryTape(type, from: document, count: count, tapeCapacity: tapeCapacity)
    }

    /// Small documents get their tape on the stack; the standard library moves large ones to
    /// the heap. Not inlined: the type metadata the temporary allocation needs would otherwise be
    /// looked up on every call, scratch tape or not.
    @inline(never)
    private func decodeWithTemporaryTape<T: Decodable>(_ type: T.Type, from document: UnsafePointer<UInt8>, count: Int, tapeCapacity: Int) throws -> T {
        try withUnsafeTemporaryAllocation(of: JSONNode.self, capacity: tapeCapacity) { tape in
            guard let tapeStart = tape.baseAddress else {
                preconditionFailure("a temporary allocation of \(tapeCapacity) nodes has no address")
            }
            return try decode(type, from: document, count: count, tape: tapeStart, capacity: tape.count)
        }
    }

    /// Scans the document into `tape` and decodes it, with `kept` (a ``Scratch``'s decoder) or a
    /// decoder of its own.
    private func decode<T: Decodable>(_ type: T.Type, from document: UnsafePointer<UInt8>, count: Int, tape: UnsafeMutablePointer<JSONNode>,
                                      capacity: Int, decoder kept: JSONTapeDecoder? = nil) throws -> T {
        var scanner = JSONScanner(bytes: document, count: count, tape: tape, capacity: capacity)
        try scanner.scanDocument()
        let scanned = JSONDocument(bytes: document, tape: UnsafePointer(tape))
        guard let kept else {
            return try JSONTapeDecoder(document: scanned, current: 0, path: nil).decode(type, at: 0, path: nil, key: nil)
        }
        kept.start(scanned)
        return try kept.decode(type, at: 0, path: nil, key: nil)
    }

    /// Decodes a value of type `T` from the JSON document in `data`.
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - data: One JSON document in UTF-8.
    /// - Returns: The decoded value.
    /// - Throws: `DecodingError`, as ``decode(_:from:)-(_,UnsafeRawBufferPointer)`` does.
    package func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try data.withUnsafeBytes { try decode(type, from: $0) }
    }
}

extension EventDecoder {
    /// A tape and a decoder kept from one ``EventDecoder/decode(_:from:reusing:)`` call to the
    /// next. The tape grows to the largest document seen, up to ``largestKept`` nodes; a larger
    /// document gets a tape of its own for its call. The decoder keeps the containers it made
    /// over the root object, one per key type, for the next document.
    package final class Scratch: @unchecked Sendable {
        // @unchecked: one call uses it at a time, as `decode(_:from:reusing:)` requires.
        private var nodes: UnsafeMutablePointer<JSONNode>
        private var capacity: Int
        fileprivate let decoder = JSONTapeDecoder()
        /// 1 MiB of nodes: the tape of a document of about 128 KiB.
        static let largestKept = 65_536

        package init() {
            capacity = 512
            nodes = .allocate(capacity: capacity)
        }

        deinit { nodes.deallocate() }

        /// A tape of at least `needed` nodes, or nil when that is more than ``largestKept``.
        fileprivate func tape(capacity needed: Int) -> UnsafeMutablePointer<JSONNode>? {
            guard needed > capacity else { return nodes }
            guard needed <= Self.largestKept else { return nil }
            nodes.deallocate()
            capacity = min(max(needed, capacity * 2), Self.largestKept)
            nodes = .allocate(capacity: capacity)
            return nodes
        }
    }
}
