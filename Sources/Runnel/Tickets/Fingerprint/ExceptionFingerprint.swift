import Crypto

/// What makes two exceptions the same problem, and so the same ticket: the exception type and
/// the application's own frames of its stack trace, or, when the trace holds none of those, the
/// type and the message's template.
///
/// ```swift
/// let fingerprinter = Fingerprinter(inAppPrefixes: ["com.example."])
/// let fingerprint = fingerprinter.fingerprint(
///     type: "java.util.concurrent.TimeoutException",
///     message: "Timed out after 150 ms",
///     stackTrace: "\tat com.example.feed.RankingClient.fetch(RankingClient.java:123)\n\tat java.lang.Thread.run(Thread.java:829)")
/// fingerprint.parts
/// // ["type java.util.concurrent.TimeoutException", "frame com.example.feed.RankingClient.fetch"]
/// ```
///
/// The ``id`` is a hash of the ``parts``, so it stays the same for as long as the rules that make
/// the parts do; the parts are what a ticket shows to say why exceptions were grouped.
public struct ExceptionFingerprint: Sendable, Hashable, Codable {
    /// The first 16 bytes of the SHA-256 of the ``parts``, each followed by a line feed, in
    /// lower-case hex (32 characters).
    public let id: String
    /// The exception's type as thrown (`java.util.concurrent.TimeoutException`), without
    /// surrounding white space.
    public let exceptionType: String
    /// The application's own frames, normalised (see ``Fingerprinter``), innermost first as in
    /// the trace, repeats in a row (recursion) written once.
    public let frames: [String]
    /// The message's template (``MessageTemplate/parameterize(_:)``), set only when it is part of
    /// the fingerprint: when ``frames`` is empty.
    public let message: String?

    /// Why exceptions with this fingerprint were grouped, one readable line each:
    /// `type java.util.concurrent.TimeoutException`, then `frame com.example.feed.RankingClient.fetch`
    /// for each frame, or `message Timed out after <int> ms` when there are no frames.
    public var parts: [String] {
        var parts = ["type \(exceptionType)"]
        if let message {
            parts.append("message \(message)")
        } else {
            parts.append(contentsOf: frames.map { "frame \($0)" })
        }
        return parts
    }

    /// A fingerprint from its parts, with its ``id`` worked out from them.
    ///
    /// ``Fingerprinter`` makes fingerprints from exceptions; this makes the same fingerprint from
    /// parts kept elsewhere.
    /// - Parameters:
    ///   - exceptionType: The exception's type.
    ///   - frames: The normalised in-app frames, innermost first.
    ///   - message: The message's template; used only when `frames` is empty (an empty template
    ///     when nil).
    public init(exceptionType: String, frames: [String], message: String?) {
        let message = frames.isEmpty ? (message ?? "") : nil
        var hashed = SHA256()
        hashed.update(data: Array("type \(exceptionType)\n".utf8))
        if let message {
            hashed.update(data: Array("message \(message)\n".utf8))
        }
        for frame in frames {
            hashed.update(data: Array("frame \(frame)\n".utf8))
        }
        self.init(id: Self.hexID(hashed.finalize()), exceptionType: exceptionType, frames: frames, message: message)
    }

    /// A fingerprint whose id was worked out already, from the same bytes.
    init(id: String, exceptionType: String, frames: [String], message: String?) {
        self.id = id
        self.exceptionType = exceptionType
        self.frames = frames
        self.message = message
    }

    /// The first 16 bytes of a digest in lower-case hex.
    static func hexID(_ digest: SHA256.Digest) -> String {
        digest.withUnsafeBytes { digestBytes in
            String(unsafeUninitializedCapacity: 32) { hex in
                let digits: StaticString = "0123456789abcdef"
                let table = digits.utf8Start
                for index in 0..<16 {
                    let byte = digestBytes[index]
                    hex[2 * index] = table[Int(byte >> 4)]
                    hex[2 * index + 1] = table[Int(byte & 0x0F)]
                }
                return 32
            }
        }
    }
}
