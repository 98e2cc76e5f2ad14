/// Why a value of the tape cannot be read as the type asked for, before the coding path is known.
///
/// ``JSONDocument``'s readers throw it and the container that called them adds its path and key
/// in ``decodingError(_:path:key:)``: readers need no path or key, and the path is built only
/// when decoding fails, never on the way to success.
struct JSONValueError: Error {
    enum Kind {
        /// The value is of another JSON kind (`typeMismatch`).
        case typeMismatch
        /// The value is null where a value is required (`valueNotFound`).
        case valueNotFound
        /// The value is of the right kind but not valid for the type (`dataCorrupted`).
        case dataCorrupted
    }

    let kind: Kind
    /// What was expected and found, naming the byte offset.
    let message: String

    /// The `DecodingError` for decoding a `type` at `path`, reached through `key` when there is one.
    func decodingError(_ type: Any.Type, path: JSONCodingPath?, key: (any CodingKey)?) -> DecodingError {
        let context = DecodingError.Context(codingPath: JSONCodingPath.keys(of: path, appending: key), debugDescription: message)
        switch kind {
        case .typeMismatch: return .typeMismatch(type, context)
        case .valueNotFound: return .valueNotFound(type, context)
        case .dataCorrupted: return .dataCorrupted(context)
        }
    }
}
