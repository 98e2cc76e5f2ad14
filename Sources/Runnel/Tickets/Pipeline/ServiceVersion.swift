import Foundation

/// Compares service versions as people write them, left to right: runs of digits as numbers,
/// runs of letters as text, separators only split. So `1.10.0` comes after `1.9.2`, and
/// `2.0.1` after `2.0`.
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
        for (x, y) in zip(left, right) {
            switch (x, y) {
            case (.number(let m), .number(let n)) where m != n: return m < n ? -1 : 1
            case (.text(let s), .text(let t)) where s != t: return Array(s.utf8).lexicographicallyPrecedes(Array(t.utf8)) ? -1 : 1
            // A number sorts after text in the same place: `2.0.1` after `2.0.beta`.
            case (.number, .text): return 1
            case (.text, .number): return -1
            default: continue
            }
        }
        return left.count == right.count ? 0 : (left.count < right.count ? -1 : 1)
    }

    private enum Part: Equatable {
        case number(UInt64)
        case text(String)
    }

    /// Digit runs and letter runs; separators (`.`, `-`, `+`, `_`) only split.
    private static func parts(_ version: String) -> [Part] {
        var parts: [Part] = []
        var current = ""
        var inDigits = false
        func end() {
            guard !current.isEmpty else { return }
            parts.append(inDigits ? .number(UInt64(current.prefix(18)) ?? .max) : .text(current.lowercased()))
            current = ""
        }
        for character in version.trimmingCharacters(in: .whitespaces) {
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
