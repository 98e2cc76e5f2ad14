import Foundation

/// Compares service versions as people write them, left to right:
/// - runs of digits compare as numbers of any length (`1.10.0` after `1.9.2`), and a missing
///   number counts as 0 (`2.0` is `2.0.0`);
/// - a run of letters where the other version has a number or has ended marks a pre-release,
///   which comes before the release (`3.2.1-rc1` before `3.2.1`, `2.0.beta` before `2.0.1`);
///   two runs of letters compare as text, ignoring case (`rc1` after `beta2`);
/// - a leading `v` and build metadata after `+` are ignored (`v3.2.1+build.7` is `3.2.1`);
/// - separators (`.`, `-`, `_`, …) only split.
enum ServiceVersion {
    /// Whether `version` is `minimum` or later. A missing version is never later than a given
    /// minimum: an exception that does not say its version cannot prove the fix is in it.
    static func isAtLeast(_ version: String?, _ minimum: String?) -> Bool {
        guard let minimum else { return true }
        guard let version else { return false }
        return compare(version, minimum) >= 0
    }

    /// -1, 0 or 1 as `a` is before, equal to or after `b`.
    static func compare(_ a: String, _ b: String) -> Int {
        let left = parts(a), right = parts(b)
        for index in 0..<max(left.count, right.count) {
            let x = index < left.count ? left[index] : nil
            let y = index < right.count ? right[index] : nil
            switch (x, y) {
            case (.number(let m), .number(let n)):
                let order = compareDigits(m, n)
                if order != 0 { return order }
            case (.text(let s), .text(let t)):
                if s != t { return Array(s.utf8).lexicographicallyPrecedes(Array(t.utf8)) ? -1 : 1 }
            // Letters facing a number, or the end: a pre-release, before the release.
            case (.text, _): return -1
            case (_, .text): return 1
            // A number facing the end: the end counts as 0.
            case (.number(let m), nil): if compareDigits(m, "0") != 0 { return 1 }
            case (nil, .number(let n)): if compareDigits("0", n) != 0 { return -1 }
            case (nil, nil): return 0
            }
        }
        return 0
    }

    /// Compares two runs of digits as numbers, whatever their length.
    private static func compareDigits(_ m: String, _ n: String) -> Int {
        let a = m.drop { $0 == "0" }, b = n.drop { $0 == "0" }
        if a.count != b.count { return a.count < b.count ? -1 : 1 }
        return a == b ? 0 : (a < b ? -1 : 1)
    }

    private enum Part: Equatable {
        case number(String)
        case text(String)
    }

    /// Digit runs and letter runs, after a leading `v` and before any `+`.
    private static func parts(_ version: String) -> [Part] {
        var text = version.trimmingCharacters(in: .whitespaces)
        if let plus = text.firstIndex(of: "+") { text = String(text[..<plus]) }
        if let first = text.first, first == "v" || first == "V", text.dropFirst().first?.isASCII == true, text.dropFirst().first?.isNumber == true {
            text.removeFirst()
        }
        var parts: [Part] = []
        var current = ""
        var inDigits = false
        func end() {
            guard !current.isEmpty else { return }
            parts.append(inDigits ? .number(current) : .text(current.lowercased()))
            current = ""
        }
        for character in text {
            if character.isASCII, character.isNumber {
                if !inDigits { end(); inDigits = true }
                current.append(character)
            } else if character.isLetter {
                if inDigits { end(); inDigits = false }
                current.append(character)
            } else {
                end()
            }
        }
        end()
        return parts
    }
}
