extension JSONScanner {
    /// Scans a number by the JSON grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    ///
    /// Only the shape is checked here; whether the value fits the type asked for is decided when
    /// it is decoded.
    mutating func scanNumber() throws {
        let start = position
        var flags: JSONNode.Flags = []
        if bytes[position] == UInt8(ascii: "-") {
            position += 1
        }
        guard position < count, isDigit(bytes[position]) else {
            throw syntaxError("expected a digit after '-' at byte \(position) in the number that starts at byte \(start), found \(describeByte(at: position))")
        }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < count, isDigit(bytes[position]) {
                throw syntaxError("the number at byte \(start) has a leading zero; JSON numbers are written without one")
            }
        } else {
            skipDigits()
        }
        if position < count, bytes[position] == UInt8(ascii: ".") {
            flags.insert(.fractionOrExponent)
            position += 1
            try requireDigit(after: "'.'", numberStart: start)
            skipDigits()
        }
        if position < count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            flags.insert(.fractionOrExponent)
            position += 1
            if position < count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            try requireDigit(after: "the exponent mark", numberStart: start)
            skipDigits()
        }
        try append(.number, start: start, length: position - start, flags: flags)
    }

    @inline(__always)
    private func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    @inline(__always)
    private mutating func skipDigits() {
        while position < count, isDigit(bytes[position]) {
            position += 1
        }
    }

    private func requireDigit(after what: String, numberStart: Int) throws {
        guard position < count, isDigit(bytes[position]) else {
            throw syntaxError("expected a digit after \(what) at byte \(position) in the number that starts at byte \(numberStart), found \(describeByte(at: position))")
        }
    }
}
