/// One value of a scanned JSON document, as ``JSONScanner`` writes it and the decoding
/// containers read it.
///
/// The scanner turns a document into a *tape*: one node per value, in document order. An object's
/// node is followed by its members, each a key node (kind ``Kind/string``) and then the nodes of
/// its value; an array's node is followed by the nodes of its elements. ``next`` lets a reader
/// step over a whole value, nested containers included, in one move, so a keyed lookup is a short
/// walk over the object's keys and never a second pass over the bytes.
///
/// Offsets are 32-bit to keep a node at 16 bytes (the tape of a 110-byte event fits in a few cache
/// lines); ``EventDecoder`` refuses documents of 4 GiB or more.
struct JSONNode {
    /// What kind of JSON value a node holds.
    enum Kind: UInt8 {
        case object, array, string, number, `true`, `false`, null
    }

    /// What the scanner learned about a string or number, so decoding can take the fast path.
    struct Flags: OptionSet {
        let rawValue: UInt8

        /// The string holds at least one backslash escape.
        static let escaped = Flags(rawValue: 1 << 0)
        /// The string holds at least one byte over 0x7F (valid UTF-8, checked by the scanner).
        static let nonASCII = Flags(rawValue: 1 << 1)
        /// The number has a fraction or an exponent, so it is not read as a plain integer.
        static let fractionOrExponent = Flags(rawValue: 1 << 2)
    }

    /// Byte offset of the value's first byte: the opening quote of a string, the bracket of a
    /// container, the sign or first digit of a number.
    var start: UInt32
    /// For a string, the number of bytes between its quotes; for a number, its length in bytes;
    /// for an array or object, its number of elements or members; 0 for `true`, `false`, `null`.
    var length: UInt32
    /// Index of the node after this value and everything inside it.
    var next: UInt32
    var kind: Kind
    var flags: Flags

    /// Offset of the first content byte of a string (the byte after the opening quote).
    var contentStart: Int { Int(start) + 1 }
}
