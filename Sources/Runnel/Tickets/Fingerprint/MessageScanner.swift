/// The byte-level work of ``MessageTemplate/parameterize(_:)``: one pass over the message's
/// UTF-8, trying the value kinds in order where a word or value starts, and copying everything
/// else as it is.
///
/// Words are skipped whole once no kind matches where they start, which is what keeps `utf8`
/// or `S3` intact: a number glued to letters never starts at a word boundary. Placeholders are
/// ASCII and the scanner only ever cuts at ASCII bytes, so the output is valid UTF-8 whenever
/// the input is. The value matchers live in `MessageScanner+Values.swift`.
struct MessageScanner {
    /// Which bytes occur at all, found in one quick pass: most messages lack most kinds, and a
    /// message with none of these bytes cannot change.
    struct Features {
        var digit = false
        var quote = false
        var at = false
        var colon = false
        /// `::`, which an IPv6 address without digits (`fe::ab`) would need.
        var doubleColon = false
        /// `://`, which every URL has.
        var url = false

        init(_ bytes: UnsafeBufferPointer<UInt8>) {
            // One table load and OR a byte, without branches; `::` and `://` are looked for
            // only when there is a colon at all.
            var seen: UInt8 = 0
            Self.classes.withUnsafeBufferPointer { classes in
                for byte in bytes { seen |= classes[Int(byte)] }
            }
            digit = seen & Self.digitClass != 0
            quote = seen & Self.quoteClass != 0
            at = seen & Self.atClass != 0
            colon = seen & Self.colonClass != 0
            guard colon else { return }
            var index = 0
            while index + 1 < bytes.count {
                if bytes[index] == 0x3A {
                    let next = bytes[index + 1]
                    if next == 0x3A { doubleColon = true }
                    if next == 0x2F, index + 2 < bytes.count, bytes[index + 2] == 0x2F { url = true }
                }
                index += 1
            }
        }

        private static let digitClass: UInt8 = 1
        private static let quoteClass: UInt8 = 2
        private static let atClass: UInt8 = 4
        private static let colonClass: UInt8 = 8
        /// Each byte's class bits.
        private static let classes: [UInt8] = (0...255).map { byte in
            switch byte {
            case 0x30...0x39: digitClass
            case 0x22, 0x27: quoteClass
            case 0x40: atClass
            case 0x3A: colonClass
            default: 0
            }
        }

        var mayVary: Bool { digit || quote || at || url || doubleColon }
    }

    let bytes: UnsafeBufferPointer<UInt8>
    let features: Features
    /// Bytes before this index are in the output already, or were replaced.
    private var copied = 0
    private var replacedAny = false
    /// The next `@` from where an email was last looked for (-1: not looked for yet; the
    /// message's length: none), and where the domain after it ends (nil: none); see `emailEnd`.
    var nextAt = -1
    var nextAtDomainEnd: Int?

    private init(bytes: UnsafeBufferPointer<UInt8>, features: Features) {
        self.bytes = bytes
        self.features = features
    }

    /// The template of a message's UTF-8 bytes, or nil when it is the message itself.
    static func template(of bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let features = Features(bytes)
        guard features.mayVary else { return nil }
        return ScratchBytes.with { output in
            var scanner = MessageScanner(bytes: bytes, features: features)
            scanner.scan(into: &output)
            return scanner.result(&output)
        }
    }

    private mutating func scan(into output: inout ScratchBytes) {
        let count = bytes.count
        var index = 0
        while index < count {
            let byte = bytes[index]
            if Self.isWord(byte) {
                if let (end, placeholder) = matchWord(at: index) {
                    replace(index..<end, with: placeholder, in: &output)
                    index = end
                } else {
                    index = endOfWord(from: index)
                }
            } else if byte == Byte.minus, index + 1 < count, Self.isDigit(bytes[index + 1]), signAllowed(before: index),
                      let (end, placeholder) = signedNumber(at: index + 1) {
                replace(index..<end, with: placeholder, in: &output)
                index = end
            } else if (byte == Byte.doubleQuote || byte == Byte.singleQuote), features.quote, atBoundary(index), let end = quotedEnd(from: index) {
                replace(index..<end, with: "<quoted>", in: &output)
                index = end
            } else if byte == Byte.colon, features.doubleColon, index + 1 < count, bytes[index + 1] == Byte.colon,
                      index == 0 || (!Self.isWord(bytes[index - 1]) && bytes[index - 1] != Byte.colon), let end = ipv6End(from: index) {
                replace(index..<end, with: "<ip>", in: &output)
                index = end
            } else if byte == Byte.at, index > 0, Self.isWord(bytes[index - 1]), let end = identityHashEnd(from: index + 1) {
                replace((index + 1)..<end, with: "<hex>", in: &output)
                index = end
            } else {
                index += 1
            }
        }
    }

    /// The first kind, in the documented order, that matches from a word's first byte.
    private mutating func matchWord(at index: Int) -> (Int, StaticString)? {
        let byte = bytes[index]
        if Self.isDigit(byte) {
            // Most numbers in messages are plain integers: digits followed by a space or
            // punctuation that no other kind continues with.
            var digitsEnd = index + 1
            while digitsEnd < bytes.count, Self.isDigit(bytes[digitsEnd]) { digitsEnd += 1 }
            if digitsEnd == bytes.count { return (digitsEnd, "<int>") }
            switch bytes[digitsEnd] {
            case Byte.dot, Byte.colon, Byte.minus, Byte.at: break
            case let next where Self.isWord(next): break
            default: return (digitsEnd, "<int>")
            }
            if let end = uuidEnd(from: index) { return (end, "<uuid>") }
            if features.at, let end = emailEnd(from: index) { return (end, "<email>") }
            if let end = ipv4End(from: index) { return (end, "<ip>") }
            if features.colon, let end = ipv6End(from: index) { return (end, "<ip>") }
            if let (end, withTime) = dateEnd(from: index) { return (end, withTime ? "<datetime>" : "<date>") }
            if features.colon, let end = timeEnd(from: index) { return (end, "<time>") }
            if let end = durationEnd(from: index) { return (end, "<duration>") }
            if let end = hexEnd(from: index) { return (end, "<hex>") }
            return signedNumber(at: index)
        }
        // A UUID, IPv6 address or hex id starting with a letter is a run of hex digits that does
        // not go on with another letter: "failed" is done with at "i".
        var hexCandidate = false
        if Self.isHexLetter(byte) {
            var hexEnd = index + 1
            while hexEnd < bytes.count, Self.isHex(bytes[hexEnd]) { hexEnd += 1 }
            hexCandidate = hexEnd == bytes.count || !Self.isWord(bytes[hexEnd])
        }
        if hexCandidate, features.digit, let end = uuidEnd(from: index) { return (end, "<uuid>") }
        if features.at, let end = emailEnd(from: index) { return (end, "<email>") }
        if features.url, Self.isLetter(byte), let end = urlEnd(from: index) { return (end, "<url>") }
        if hexCandidate, features.colon, let end = ipv6End(from: index) { return (end, "<ip>") }
        if hexCandidate, features.digit, let end = hexEnd(from: index) { return (end, "<hex>") }
        return nil
    }

    /// A float or an integer starting at a digit (after a minus sign, or not).
    private func signedNumber(at index: Int) -> (Int, StaticString)? {
        if let end = floatEnd(from: index) { return (end, "<float>") }
        if let end = integerEnd(from: index) { return (end, "<int>") }
        return nil
    }

    /// Past a word no kind matched, and past any `.`-joined parts starting with a digit, so a
    /// version (`v1.2.3`, `1.2.3`) or a dotted name stays as written rather than losing its
    /// later parts to `<int>`.
    private func endOfWord(from start: Int) -> Int {
        var index = start
        while true {
            while index < bytes.count, Self.isWord(bytes[index]) { index += 1 }
            guard index + 1 < bytes.count, bytes[index] == Byte.dot, Self.isDigit(bytes[index + 1]) else { return index }
            index += 1
        }
    }

    /// A minus sign is a sign after a space, an opening bracket or punctuation that introduces a
    /// value, not after a word (`item-5`, `2026-01`) or another dash.
    private func signAllowed(before index: Int) -> Bool {
        guard index > 0 else { return true }
        switch bytes[index - 1] {
        case 0x20, 0x09, 0x0A, 0x0D, 0x28, 0x5B, 0x7B, 0x3D, 0x2C, 0x3A: return true  // space tab LF CR ( [ { = , :
        default: return false
        }
    }

    /// Whether a value may start at `index`: the byte before it is not part of a word.
    func atBoundary(_ index: Int) -> Bool {
        index == 0 || !Self.isWord(bytes[index - 1])
    }

    /// Whether a value may end at `index`: the byte there is not part of a word.
    func endsWord(_ index: Int) -> Bool {
        index >= bytes.count || !Self.isWord(bytes[index])
    }

    private mutating func replace(_ range: Range<Int>, with placeholder: StaticString, in output: inout ScratchBytes) {
        replacedAny = true
        output.append(bytes, copied..<range.lowerBound)
        output.append(placeholder)
        copied = range.upperBound
    }

    private func result(_ output: inout ScratchBytes) -> String? {
        guard replacedAny else { return nil }
        output.append(bytes, copied..<bytes.count)
        return String(decoding: output.written, as: UTF8.self)
    }
}

// MARK: - Bytes

extension MessageScanner {
    /// The ASCII bytes the scanner looks for.
    enum Byte {
        static let minus: UInt8 = 0x2D
        static let plus: UInt8 = 0x2B
        static let dot: UInt8 = 0x2E
        static let colon: UInt8 = 0x3A
        static let slash: UInt8 = 0x2F
        static let at: UInt8 = 0x40
        static let doubleQuote: UInt8 = 0x22
        static let singleQuote: UInt8 = 0x27
        static let backslash: UInt8 = 0x5C
        static let newline: UInt8 = 0x0A
        static let space: UInt8 = 0x20
        static let underscore: UInt8 = 0x5F
    }

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }
    @inline(__always) static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) &- 0x61 < 26 }
    @inline(__always) static func isHexLetter(_ byte: UInt8) -> Bool { (byte | 0x20) &- 0x61 < 6 }
    @inline(__always) static func isHex(_ byte: UInt8) -> Bool { isDigit(byte) || isHexLetter(byte) }
    /// Letters, digits, `_`, and every byte of a non-ASCII character (so `naïve2` is one word).
    @inline(__always) static func isWord(_ byte: UInt8) -> Bool {
        isDigit(byte) || isLetter(byte) || byte == Byte.underscore || byte >= 0x80
    }
}
