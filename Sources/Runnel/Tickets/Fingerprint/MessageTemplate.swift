/// Exception messages with their variable parts replaced by placeholders, so that two
/// occurrences of one failure read the same: `Timed out after 150 ms waiting for order 81723`
/// and `Timed out after 2000 ms waiting for order 5` both become
/// `Timed out after <int> ms waiting for order <int>`.
///
/// A ticket shows the template as its title, and ``Fingerprinter`` groups exceptions by it when
/// their stack traces hold none of the application's frames.
public enum MessageTemplate {
    /// Replaces the variable parts of a message with placeholders.
    ///
    /// The message is read left to right. Where a word or value starts, the first kind below
    /// that matches there wins (so a UUID is never read as numbers and dashes, and a date never
    /// as an integer):
    ///
    /// | placeholder | matches |
    /// |---|---|
    /// | `<uuid>` | `550e8400-e29b-41d4-a716-446655440000` (either case) |
    /// | `<email>` | `jane.doe+tag@example.com` |
    /// | `<url>` | `scheme://…` up to a space or quote, trailing `.,;:!?)]}` left out |
    /// | `<ip>` | IPv4 `10.0.0.12`, IPv6 `2001:db8::1`, `::1`, `::ffff:10.0.0.1` (a port stays: `<ip>:<int>`) |
    /// | `<datetime>` | `2026-01-05T13:00:00Z`, `2026-01-05T13:00:00.123+01:00`, `2026-01-05 13:00:00` |
    /// | `<date>` | `2026-01-05` |
    /// | `<time>` | `13:05:22`, `13:05:22.250` |
    /// | `<duration>` | `150ms`, `2.5s`, `3m`, `1h30m`, `40µs` (units ns, us, µs, ms, s, sec, m, min, h, d) |
    /// | `<hex>` | `0x7f3a`; 8 or more hex digits with at least one digit and one letter (`deadbeef42`); a JVM identity hash after `Class@` (`FutureTask@1b6d3586`, `@12345678`) |
    /// | `<float>` | `3.14`, `-0.5`, `6.02e23` |
    /// | `<int>` | `42`, `-7` (a minus sign counts after a space or punctuation, not after a word: `item-5` is `item-<int>`) |
    /// | `<quoted>` | `'…'` or `"…"` on one line, whatever is inside, nested quotes of the other kind included |
    ///
    /// What stays as written:
    /// - a number glued to letters or `_` is part of a word: `utf8`, `ipv6`, `S3`, `user42`, `5xx`, `10MB`;
    /// - dotted names and version numbers: `v1.2.3`, `1.2.3`, `host1.example.com` (two parts, `2.5`, is a float);
    /// - an apostrophe inside a word (`don't`), and a quote that is never closed.
    ///
    /// ```swift
    /// MessageTemplate.parameterize("User 'jane' (id=81723) not found in shard-7 after 150ms")
    /// // "User <quoted> (id=<int>) not found in shard-<int> after <duration>"
    /// MessageTemplate.parameterize("Connection to 10.0.3.17:5432 refused at 2026-01-05T13:00:00Z")
    /// // "Connection to <ip>:<int> refused at <datetime>"
    /// ```
    ///
    /// The message is scanned as UTF-8 bytes by hand rather than with regular expressions: it runs
    /// for every exception of an hourly batch. A message with no digit, quote, `@` or `:` is
    /// returned as it is, without copying; otherwise the template is written into scratch memory
    /// on the stack and copied once into the string returned.
    ///
    /// - Parameter message: An exception's message, as thrown.
    /// - Returns: The template; the message itself when nothing in it varies.
    public static func parameterize(_ message: String) -> String {
        if let result = message.utf8.withContiguousStorageIfAvailable({ MessageScanner.template(of: $0) }) {
            return result ?? message
        }
        // Bridged or otherwise non-contiguous strings: make a native copy first.
        var copy = message
        copy.makeContiguousUTF8()
        return copy.utf8.withContiguousStorageIfAvailable({ MessageScanner.template(of: $0) })?.flatMap { $0 } ?? copy
    }
}
