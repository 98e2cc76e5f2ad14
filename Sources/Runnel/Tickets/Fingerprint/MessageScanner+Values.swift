/// The value matchers: each takes the index where a value may start and returns the index just
/// past it, or nil when no value of its kind starts there. None allocates.
extension MessageScanner {
    /// `8-4-4-4-12` hex digits, then the end of the word.
    func uuidEnd(from start: Int) -> Int? {
        let end = start + 36
        guard end <= bytes.count else { return nil }
        for index in start..<end {
            let byte = bytes[index]
            switch index - start {
            case 8, 13, 18, 23: guard byte == Byte.minus else { return nil }
            default: guard Self.isHex(byte) else { return nil }
            }
        }
        return endsWord(end) ? end : nil
    }

    /// `local@domain.tld`: the local part of letters, digits and `._%+-` (at most 64 bytes, as
    /// RFC 5321 allows), a domain of at least two labels, the last of letters.
    ///
    /// The next `@` and its domain are looked at once, not from every word before it: each word
    /// of `java.util.concurrent.FutureTask@1b6d3586` would otherwise scan to the same `@`.
    mutating func emailEnd(from start: Int) -> Int? {
        if nextAt < start {
            nextAt = bytes.count
            var index = start
            while index < bytes.count {
                if bytes[index] == Byte.at {
                    nextAt = index
                    break
                }
                index += 1
            }
            nextAtDomainEnd = nextAt < bytes.count ? domainEnd(after: nextAt) : nil
        }
        guard let domainEnd = nextAtDomainEnd, nextAt > start, nextAt - start <= 64 else { return nil }
        for index in start..<nextAt {
            let byte = bytes[index]
            guard Self.isDigit(byte) || Self.isLetter(byte) || byte == Byte.dot || byte == Byte.underscore
                || byte == 0x25 || byte == Byte.plus || byte == Byte.minus else { return nil }
        }
        return domainEnd
    }

    /// Where the domain after the `@` at `at` ends, or nil when there is none.
    private func domainEnd(after at: Int) -> Int? {
        var index = at + 1
        var labels = 0
        var lastLabelIsLetters = false
        while true {
            let labelStart = index
            var letters = true
            while index < bytes.count, Self.isDigit(bytes[index]) || Self.isLetter(bytes[index]) || bytes[index] == Byte.minus {
                letters = letters && Self.isLetter(bytes[index])
                index += 1
            }
            guard index > labelStart else { return nil }
            labels += 1
            lastLabelIsLetters = letters && index - labelStart >= 2
            guard index + 1 < bytes.count, bytes[index] == Byte.dot, Self.isLetter(bytes[index + 1]) || Self.isDigit(bytes[index + 1]) else { break }
            index += 1
        }
        return labels >= 2 && lastLabelIsLetters && endsWord(index) ? index : nil
    }

    /// `scheme://` and everything up to a space, a quote or an angle bracket, without trailing
    /// punctuation (the full stop ending a sentence is not part of the URL).
    func urlEnd(from start: Int) -> Int? {
        var index = start
        let limit = min(bytes.count, start + 32)
        while index < limit {
            let byte = bytes[index]
            guard Self.isLetter(byte) || Self.isDigit(byte) || byte == Byte.plus || byte == Byte.dot || byte == Byte.minus else { break }
            index += 1
        }
        guard index + 2 < bytes.count, bytes[index] == Byte.colon, bytes[index + 1] == Byte.slash, bytes[index + 2] == Byte.slash else { return nil }
        index += 3
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D, Byte.doubleQuote, Byte.singleQuote, 0x3C, 0x3E, 0x60: break  // space tab LF CR " ' < > `
            default: index += 1; continue
            }
            break
        }
        trimming: while index > start {
            switch bytes[index - 1] {
            case 0x2E, 0x2C, 0x3B, 0x3A, 0x21, 0x3F, 0x29, 0x5D, 0x7D: index -= 1  // . , ; : ! ? ) ] }
            default: break trimming
            }
        }
        return index
    }

    /// Four dot-separated numbers of at most three digits, each at most 255; not followed by
    /// another `.digit` (that is a version number).
    func ipv4End(from start: Int) -> Int? {
        var index = start
        for part in 0..<4 {
            if part > 0 {
                guard index < bytes.count, bytes[index] == Byte.dot else { return nil }
                index += 1
            }
            var value = 0
            let partStart = index
            while index < bytes.count, index - partStart < 4, Self.isDigit(bytes[index]) {
                value = value * 10 + Int(bytes[index] &- 0x30)
                index += 1
            }
            guard index > partStart, index - partStart <= 3, value <= 255 else { return nil }
        }
        return endsWord(index) && !dotDigit(at: index) ? index : nil
    }

    /// Colon-separated groups of one to four hex digits: eight of them, or fewer with one `::`,
    /// the last two groups possibly written as an IPv4 address (`::ffff:10.0.0.1`). `13:05:22`
    /// is not one (three groups, no `::`).
    func ipv6End(from start: Int) -> Int? {
        var index = start
        var groups = 0
        var colons = 0
        var compressed = false
        if index + 1 < bytes.count, bytes[index] == Byte.colon, bytes[index + 1] == Byte.colon {
            compressed = true
            colons = 2
            index += 2
        }
        while true {
            let groupStart = index
            while index < bytes.count, index - groupStart < 5, Self.isHex(bytes[index]) { index += 1 }
            let length = index - groupStart
            if length == 0 { break }  // only right after `::`
            if index < bytes.count, bytes[index] == Byte.dot, colons >= 2, let end = ipv4End(from: groupStart) {
                groups += 2
                index = end
                break
            }
            guard length <= 4 else { return nil }
            groups += 1
            guard index + 1 < bytes.count, bytes[index] == Byte.colon else { break }
            if bytes[index + 1] == Byte.colon {
                guard !compressed else { return nil }
                compressed = true
                colons += 2
                index += 2
            } else if Self.isHex(bytes[index + 1]) {
                colons += 1
                index += 1
            } else {
                break
            }
        }
        guard colons >= 2, groups >= 1, compressed ? groups <= 7 : groups == 8 else { return nil }
        return endsWord(index) ? index : nil
    }

    /// `YYYY-MM-DD`, and with a time after `T` (or after a space, with seconds) a date-time with an
    /// optional fraction and zone (`Z`, `+01:00`, `-0500`).
    /// - Returns: The end, and whether a time was part of it.
    func dateEnd(from start: Int) -> (Int, Bool)? {
        guard start + 10 <= bytes.count else { return nil }
        for offset in 0..<10 {
            let byte = bytes[start + offset]
            guard offset == 4 || offset == 7 ? byte == Byte.minus : Self.isDigit(byte) else { return nil }
        }
        let dateEnd = start + 10
        if dateEnd + 1 < bytes.count, bytes[dateEnd] == 0x54 || bytes[dateEnd] == 0x74 || bytes[dateEnd] == Byte.space {  // T t space
            let needsSeconds = bytes[dateEnd] == Byte.space
            if let timeEnd = clockEnd(from: dateEnd + 1, needsSeconds: needsSeconds) {
                let end = zoneEnd(from: timeEnd)
                if endsWord(end) { return (end, true) }
            }
        }
        return endsWord(dateEnd) && !dotDigit(at: dateEnd) ? (dateEnd, false) : nil
    }

    /// `H:MM:SS` or `HH:MM:SS`, with an optional fraction and `Z`.
    func timeEnd(from start: Int) -> Int? {
        let hourDigits = start + 1 < bytes.count && Self.isDigit(bytes[start + 1]) ? 2 : 1
        guard var index = clockEnd(from: start, needsSeconds: true, hourDigits: hourDigits) else { return nil }
        if index < bytes.count, bytes[index] == 0x5A { index += 1 }  // Z
        return endsWord(index) ? index : nil
    }

    /// An hour of `hourDigits` digits, `:MM`, then `:SS` (required or not) and a fraction after
    /// `.` or `,`.
    private func clockEnd(from start: Int, needsSeconds: Bool, hourDigits: Int = 2) -> Int? {
        var index = start
        for _ in 0..<hourDigits {
            guard index < bytes.count, Self.isDigit(bytes[index]) else { return nil }
            index += 1
        }
        guard index < bytes.count, bytes[index] == Byte.colon, twoDigits(at: index + 1) else { return nil }
        index += 3
        if index < bytes.count, bytes[index] == Byte.colon, twoDigits(at: index + 1) {
            index += 3
            if index + 1 < bytes.count, bytes[index] == Byte.dot || bytes[index] == 0x2C, Self.isDigit(bytes[index + 1]) {
                index += 1
                while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
            }
        } else if needsSeconds {
            return nil
        }
        return index
    }

    /// Past a zone designator after a time, if there is one: `Z`, `+HH`, `+HH:MM` or `+HHMM`.
    private func zoneEnd(from start: Int) -> Int {
        guard start < bytes.count else { return start }
        let byte = bytes[start]
        if byte == 0x5A || byte == 0x7A { return start + 1 }  // Z z
        guard byte == Byte.plus || byte == Byte.minus, twoDigits(at: start + 1) else { return start }
        var index = start + 3
        if index < bytes.count, bytes[index] == Byte.colon, twoDigits(at: index + 1) {
            index += 3
        } else if twoDigits(at: index) {
            index += 2
        }
        return index
    }

    /// A number with a unit, possibly several (`1h30m`, `2m15.5s`), ending the word.
    func durationEnd(from start: Int) -> Int? {
        var index = start
        repeat {
            let numberStart = index
            while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
            guard index > numberStart else { return nil }
            if index + 1 < bytes.count, bytes[index] == Byte.dot, Self.isDigit(bytes[index + 1]) {
                index += 1
                while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
            }
            guard let unitEnd = durationUnitEnd(from: index) else { return nil }
            index = unitEnd
        } while index < bytes.count && Self.isDigit(bytes[index])
        return endsWord(index) ? index : nil
    }

    /// Past a duration unit: ns, us, µs, ms, s, sec, secs, m, min, mins, h, hr, hrs, d.
    private func durationUnitEnd(from start: Int) -> Int? {
        // µ is U+00B5, C2 B5 in UTF-8.
        if start + 2 < bytes.count, bytes[start] == 0xC2, bytes[start + 1] == 0xB5, bytes[start + 2] == 0x73 { return start + 3 }
        var index = start
        var packed: UInt32 = 0
        while index < bytes.count, Self.isLetter(bytes[index]) {
            guard index - start < 4 else { return nil }
            packed = packed << 8 | UInt32(bytes[index])
            index += 1
        }
        switch packed {
        case 0x6E73, 0x7573, 0x6D73, 0x73, 0x736563, 0x7365_6373,  // ns us ms s sec secs
             0x6D, 0x6D696E, 0x6D69_6E73, 0x68, 0x6872, 0x687273, 0x64:  // m min mins h hr hrs d
            return index
        default:
            return nil
        }
    }

    /// `0x` and hex digits, or a word of at least 8 hex digits with a digit and a letter in it
    /// (`7f3a9b2c`, but not `12345678`, an integer, nor `deadbeef`, a word).
    func hexEnd(from start: Int) -> Int? {
        if start + 2 < bytes.count, bytes[start] == 0x30, bytes[start + 1] | 0x20 == 0x78, Self.isHex(bytes[start + 2]) {
            var index = start + 2
            while index < bytes.count, Self.isHex(bytes[index]) { index += 1 }
            return endsWord(index) ? index : nil
        }
        var index = start
        var digits = false
        var letters = false
        while index < bytes.count, Self.isHex(bytes[index]) {
            if Self.isDigit(bytes[index]) { digits = true } else { letters = true }
            index += 1
        }
        return index - start >= 8 && digits && letters && endsWord(index) ? index : nil
    }

    /// The hex digits of a JVM identity hash after `Class@` (`FutureTask@1b6d3586`): at least
    /// four with a digit among them, or eight, ending the word. `index` is just past the `@`.
    func identityHashEnd(from start: Int) -> Int? {
        var index = start
        var digits = false
        while index < bytes.count, Self.isHex(bytes[index]) {
            digits = digits || Self.isDigit(bytes[index])
            index += 1
        }
        let length = index - start
        return endsWord(index) && (length >= 4 && digits || length == 8) ? index : nil
    }

    /// `1.5`, `1.5e-3`, `6e23`, ending the word, and not a version number (`1.2.3`).
    func floatEnd(from start: Int) -> Int? {
        var index = start
        while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
        var fraction = false
        if index + 1 < bytes.count, bytes[index] == Byte.dot, Self.isDigit(bytes[index + 1]) {
            fraction = true
            index += 1
            while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
        }
        var exponent = false
        if index < bytes.count, bytes[index] | 0x20 == 0x65 {  // e E
            var mark = index + 1
            if mark < bytes.count, bytes[mark] == Byte.plus || bytes[mark] == Byte.minus { mark += 1 }
            if mark < bytes.count, Self.isDigit(bytes[mark]) {
                exponent = true
                index = mark
                while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
            }
        }
        guard fraction || exponent else { return nil }
        return endsWord(index) && !dotDigit(at: index) ? index : nil
    }

    /// Digits ending the word, and not the first part of a version number.
    func integerEnd(from start: Int) -> Int? {
        var index = start
        while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
        return endsWord(index) && !dotDigit(at: index) ? index : nil
    }

    /// A quoted value from its opening quote to the same quote ending a word, on one line; a
    /// backslash escapes the byte after it. Nil when the quote is never closed.
    func quotedEnd(from start: Int) -> Int? {
        let quote = bytes[start]
        var index = start + 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == Byte.backslash {
                index += 2
            } else if byte == Byte.newline {
                return nil
            } else if byte == quote, endsWord(index + 1) {
                return index + 1
            } else {
                index += 1
            }
        }
        return nil
    }

    /// Whether `.` and a digit follow at `index`: a value there continues as a version number.
    private func dotDigit(at index: Int) -> Bool {
        index + 1 < bytes.count && bytes[index] == Byte.dot && Self.isDigit(bytes[index + 1])
    }

    private func twoDigits(at index: Int) -> Bool {
        index + 1 < bytes.count && Self.isDigit(bytes[index]) && Self.isDigit(bytes[index + 1])
    }
}
