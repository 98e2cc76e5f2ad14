/// Checks a JSON document against RFC 8259 in one pass over its bytes and writes its tape of
/// ``JSONNode``s.
///
/// Everything is validated here, including values no `Decodable` type will read: strings (escapes,
/// control characters, UTF-8), numbers (the JSON grammar: no leading zeros, no `1.`), nesting
/// depth and trailing bytes. Decoding then trusts the tape and only converts what it asks for.
///
/// The scanner writes into a tape the caller allocates (see ``tapeCapacity(forValidDocumentOf:)``).
struct JSONScanner {
    /// The deepest nesting of arrays and objects accepted, the same limit as Foundation's
    /// `JSONDecoder`; it also bounds the scanner's recursion.
    static let maximumDepth = 512

    let bytes: UnsafePointer<UInt8>
    let count: Int
    private let tape: UnsafeMutablePointer<JSONNode>
    private let capacity: Int
    /// Offset of the next byte to read.
    var position = 0
    /// Number of nodes written to the tape.
    private(set) var nodeCount = 0

    /// The number of nodes a *valid* document of `count` bytes can need. By induction, a value of
    /// `n` nodes takes at least `2n - 1` bytes: a scalar 1; an array of `k` elements its brackets
    /// and `k - 1` commas besides its elements; an object also a colon and a key of 2 or more
    /// bytes per member. A document cut short (`[[[`) can need up to one node per byte: the
    /// scanner then throws ``TapeFull`` and the caller scans again with ``tapeCapacity(forAnyDocumentOf:)``.
    static func tapeCapacity(forValidDocumentOf count: Int) -> Int {
        count / 2 + 1
    }

    /// The number of nodes any document of `count` bytes can need: every node starts at a distinct byte.
    static func tapeCapacity(forAnyDocumentOf count: Int) -> Int {
        count
    }

    /// Thrown when the document has more values than the tape holds, which proves it invalid when
    /// the tape was sized by ``tapeCapacity(forValidDocumentOf:)``.
    struct TapeFull: Error {}

    /// Creates a scanner over `count` bytes that writes at most `capacity` nodes to `tape`.
    init(bytes: UnsafePointer<UInt8>, count: Int, tape: UnsafeMutablePointer<JSONNode>, capacity: Int) {
        self.bytes = bytes
        self.count = count
        self.tape = tape
        self.capacity = capacity
    }

    /// Scans a whole document: one value, whitespace around it, and an optional UTF-8 byte order
    /// mark (which `JSONDecoder` also skips).
    /// - Throws: `DecodingError.dataCorrupted` naming the byte offset of the first problem.
    mutating func scanDocument() throws {
        if count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            position = 3
        }
        try scanValue(depth: 0)
        skipWhitespace()
        guard position == count else {
            throw syntaxError("unexpected \(describeByte(at: position)) at byte \(position) after the top-level value")
        }
    }

    // MARK: - Values

    /// Scans one value; `depth` is the number of arrays and objects around it.
    private mutating func scanValue(depth: Int) throws {
        skipWhitespace()
        guard position < count else {
            throw syntaxError("expected a value at byte \(position), found the end of the document")
        }
        switch bytes[position] {
        case UInt8(ascii: "\""):
            try scanString()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try scanNumber()
        case UInt8(ascii: "{"):
            try scanObject(depth: depth + 1)
        case UInt8(ascii: "["):
            try scanArray(depth: depth + 1)
        case UInt8(ascii: "t"):
            try scanLiteral("true", kind: .true)
        case UInt8(ascii: "f"):
            try scanLiteral("false", kind: .false)
        case UInt8(ascii: "n"):
            try scanLiteral("null", kind: .null)
        default:
            throw syntaxError("expected a value (object, array, string, number, true, false or null) at byte \(position), found \(describeByte(at: position))")
        }
    }

    private mutating func scanObject(depth: Int) throws {
        try checkDepth(depth)
        let object = try append(.object, start: position)
        position += 1
        skipWhitespace()
        var members: UInt32 = 0
        if position < count, bytes[position] == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                guard position < count, bytes[position] == UInt8(ascii: "\"") else {
                    throw syntaxError(expectedKeyMessage(afterComma: members > 0))
                }
                try scanString()
                skipWhitespace()
                guard position < count, bytes[position] == UInt8(ascii: ":") else {
                    throw syntaxError("expected ':' after the key at byte \(tape[nodeCount - 1].start), found \(describeByte(at: position)) at byte \(position)")
                }
                position += 1
                try scanValue(depth: depth)
                members += 1
                if try scanSeparator(closing: UInt8(ascii: "}"), of: "object", startingAt: object) { break }
            }
        }
        tape[object].length = members
        tape[object].next = UInt32(truncatingIfNeeded: nodeCount)
    }

    private mutating func scanArray(depth: Int) throws {
        try checkDepth(depth)
        let array = try append(.array, start: position)
        position += 1
        skipWhitespace()
        var elements: UInt32 = 0
        if position < count, bytes[position] == UInt8(ascii: "]") {
            position += 1
        } else {
            while true {
                if position < count, bytes[position] == UInt8(ascii: "]") {
                    // Only reachable after a comma: `JSONDecoder` accepts `[1,]`, JSON does not.
                    throw syntaxError("trailing comma before ']' at byte \(position); JSON allows no comma after the last element")
                }
                try scanValue(depth: depth)
                elements += 1
                if try scanSeparator(closing: UInt8(ascii: "]"), of: "array", startingAt: array) { break }
            }
        }
        tape[array].length = elements
        tape[array].next = UInt32(truncatingIfNeeded: nodeCount)
    }

    /// After an object's member or an array's element: consumes `,` (and the whitespace after
    /// it) and returns false, or consumes the closing bracket and returns true.
    @inline(__always)
    private mutating func scanSeparator(closing: UInt8, of container: StaticString, startingAt node: Int) throws -> Bool {
        skipWhitespace()
        guard position < count else {
            throw syntaxError("expected ',' or '\(Character(Unicode.Scalar(closing)))' at byte \(position) to continue the \(container) that starts at byte \(tape[node].start), found the end of the document")
        }
        let separator = bytes[position]
        position += 1
        if separator == closing { return true }
        guard separator == UInt8(ascii: ",") else {
            throw syntaxError("expected ',' or '\(Character(Unicode.Scalar(closing)))' at byte \(position - 1) to continue the \(container) that starts at byte \(tape[node].start), found \(describeByte(at: position - 1))")
        }
        skipWhitespace()
        return false
    }

    private mutating func scanLiteral(_ literal: StaticString, kind: JSONNode.Kind) throws {
        let length = literal.utf8CodeUnitCount
        let expected = literal.utf8Start
        guard position + length <= count else {
            throw syntaxError("expected '\(literal)' at byte \(position), found the end of the document")
        }
        for offset in 0..<length where bytes[position + offset] != expected[offset] {
            throw syntaxError("expected '\(literal)' at byte \(position), found \(describeByte(at: position + offset)) at byte \(position + offset)")
        }
        try append(kind, start: position)
        position += length
    }

    // MARK: - Helpers

    /// Appends a node and returns its index; containers patch `length` and `next` when they end.
    @discardableResult
    mutating func append(_ kind: JSONNode.Kind, start: Int, length: Int = 0, flags: JSONNode.Flags = []) throws -> Int {
        guard nodeCount < capacity else { throw TapeFull() }
        let index = nodeCount
        tape[index] = JSONNode(start: UInt32(truncatingIfNeeded: start), length: UInt32(truncatingIfNeeded: length),
                               next: UInt32(truncatingIfNeeded: index + 1), kind: kind, flags: flags)
        nodeCount = index + 1
        return index
    }

    /// Skips the four whitespace bytes JSON allows (space, tab, line feed, carriage return).
    @inline(__always)
    mutating func skipWhitespace() {
        while position < count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    private func checkDepth(_ depth: Int) throws {
        guard depth <= Self.maximumDepth else {
            throw syntaxError("more than \(Self.maximumDepth) nested arrays and objects at byte \(position)")
        }
    }

    private func expectedKeyMessage(afterComma: Bool) -> String {
        if afterComma, position < count, bytes[position] == UInt8(ascii: "}") {
            return "trailing comma before '}' at byte \(position); JSON allows no comma after the last member"
        }
        return "expected a key in double quotes at byte \(position), found \(describeByte(at: position))"
    }

    /// A short, printable description of the byte at `offset` for error messages.
    func describeByte(at offset: Int) -> String {
        guard offset < count else { return "the end of the document" }
        let byte = bytes[offset]
        if byte >= 0x20, byte < 0x7F {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        return "byte 0x" + String(byte, radix: 16, uppercase: true)
    }

    /// The error for a document that is not valid JSON; the path is empty because syntax is
    /// checked before any value is decoded.
    func syntaxError(_ message: String) -> DecodingError {
        DecodingError.dataCorrupted(DecodingError.Context(codingPath: [], debugDescription: "The given data is not valid JSON: \(message)."))
    }
}
