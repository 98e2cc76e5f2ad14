/// A scanned document as decoding reads it: the bytes and their tape, both borrowed for the
/// duration of one ``EventDecoder`` call.
///
/// It is two pointers, so containers copy it freely, and every read on the hot path (find a key,
/// convert a value) goes through it without touching a reference count. Reads report problems
/// as ``JSONValueError``, which the container turns into a `DecodingError` with its coding path.
struct JSONDocument {
    let bytes: UnsafePointer<UInt8>
    let tape: UnsafePointer<JSONNode>

    /// The tape index of the value of the first member of `object` whose key equals `name`, or
    /// nil. Like `JSONDecoder`, the first of duplicate keys wins.
    ///
    /// A key written in plain ASCII (every key `JSONEncoder` writes for a synthesized
    /// `CodingKeys`) is compared as bytes, without making a `String`. A key with escapes or
    /// other characters is compared as a Swift string, so canonically equivalent forms match, as
    /// in `JSONDecoder`'s dictionary. (The one case this misses: a `CodingKey` spelled with one of
    /// the three characters whose canonical form is ASCII, U+037E, U+1FEF and U+212A, against
    /// that ASCII in the document.)
    func valueIndex(in object: Int, forKey name: String) -> Int? {
        var name = name
        return name.withUTF8 { wanted -> Int? in
            let end = Int(tape[object].next)
            var keyIndex = object + 1
            while keyIndex < end {
                let key = tape[keyIndex]
                if key.flags.isEmpty {
                    if RawBytes.equal(UnsafeRawBufferPointer(start: bytes + key.contentStart, count: Int(key.length)), UnsafeRawBufferPointer(wanted)) {
                        return keyIndex + 1
                    }
                } else if makeString(key) == String(decoding: wanted, as: UTF8.self) {
                    return keyIndex + 1
                }
                keyIndex = Int(tape[keyIndex + 1].next)
            }
            return nil
        }
    }

    /// Calls `body` with the tape index of each key of `object`, in document order.
    func forEachKey(of object: Int, _ body: (Int) -> Void) {
        let end = Int(tape[object].next)
        var keyIndex = object + 1
        while keyIndex < end {
            body(keyIndex)
            keyIndex = Int(tape[keyIndex + 1].next)
        }
    }

    /// What a value is, with an excerpt of its text, for "found …" in messages.
    func describe(_ node: JSONNode) -> String {
        switch node.kind {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string \"\(excerpt(from: node.contentStart, length: Int(node.length)))\""
        case .number: "the number \(excerpt(from: Int(node.start), length: Int(node.length)))"
        case .true: "true"
        case .false: "false"
        case .null: "null"
        }
    }

    // MARK: - Helpers

    private func excerpt(from start: Int, length: Int) -> String {
        let limit = 32
        let text = String(decoding: UnsafeBufferPointer(start: bytes + start, count: min(length, limit)), as: UTF8.self)
        return length > limit ? text + "…" : text
    }
}
