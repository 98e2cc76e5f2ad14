/// One link of a coding path, from a value up to the root (`nil` stands for the root).
///
/// A link is made only when a nested value is handed to its own `init(from:)` or gets a nested
/// container; the `[CodingKey]` array is built only when something asks for it (mostly an
/// error). A flat event therefore decodes without making any.
final class JSONCodingPath {
    let key: any CodingKey
    let parent: JSONCodingPath?

    init(key: any CodingKey, parent: JSONCodingPath?) {
        self.key = key
        self.parent = parent
    }

    /// The keys of `path` from the root down, followed by `key` when there is one, as
    /// `DecodingError` and `codingPath` expect them.
    static func keys(of path: JSONCodingPath?, appending key: (any CodingKey)? = nil) -> [any CodingKey] {
        var keys: [any CodingKey] = []
        if let key { keys.append(key) }
        var link = path
        while let current = link {
            keys.append(current.key)
            link = current.parent
        }
        return keys.reversed()
    }
}

/// The coding key of an array element, named like `JSONDecoder`'s ("Index 3").
struct JSONIndexKey: CodingKey {
    let index: Int

    init(index: Int) {
        self.index = index
    }

    init?(stringValue: String) {
        return nil
    }

    init?(intValue: Int) {
        index = intValue
    }

    var stringValue: String { "Index \(index)" }
    var intValue: Int? { index }
}

/// The key `superDecoder()` reads when given none, as in `JSONDecoder`.
struct JSONSuperKey: CodingKey {
    init() {}

    init?(stringValue: String) {
        guard stringValue == "super" else { return nil }
    }

    init?(intValue: Int) {
        return nil
    }

    var stringValue: String { "super" }
    var intValue: Int? { nil }
}
