import Foundation

/// Decodes input files as UTF-8 without repair.
///
/// `String(decoding:as:)` silently turns every invalid byte into U+FFFD, which would then be
/// stored in business tables and outbox keys as if the file had said so. Input that is not UTF-8
/// is refused instead, naming the line and the byte.
package enum StrictUTF8 {
    /// Where a file stops being valid UTF-8.
    package struct Failure: Error, Sendable, Hashable {
        /// The offset of the first invalid byte in the file, from 0.
        package var offset: Int
        /// The line holding it, from 1.
        package var line: Int
        /// Its position within that line, in bytes, from 1.
        package var column: Int
        /// The invalid bytes, in hex (`ff fe`).
        package var bytes: String

        /// "line 3, byte 17 (file offset 203) holds ff fe".
        package var description: String {
            "line \(line), byte \(column) (file offset \(offset)) holds \(bytes)"
        }
    }

    /// The text of `data`, or where it is not UTF-8.
    package static func decode(_ data: Data) throws(Failure) -> String {
        if let text = String(validating: data, as: UTF8.self) { return text }
        throw firstFailure(in: data) ?? Failure(offset: 0, line: 1, column: 1, bytes: "?")
    }

    /// Locates the first invalid sequence; only run once fast validation has failed.
    static func firstFailure(in data: Data) -> Failure? {
        var iterator = data.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        var line = 1
        var lineStart = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1, encoded.first == UInt8(ascii: "\n") {
                    line += 1
                    lineStart = offset + 1
                }
                offset += encoded.count
            case .error(let length):
                let bytes = data[data.startIndex + offset ..< data.startIndex + offset + length]
                    .map { String(format: "%02x", $0) }.joined(separator: " ")
                return Failure(offset: offset, line: line, column: offset - lineStart + 1, bytes: bytes)
            case .emptyInput:
                return nil
            }
        }
    }
}
