import GRDB

/// The key events are grouped by after `keyBy`: one or more column values.
///
/// One column, the common case, is held inline so keying an event allocates nothing for integer
/// keys and short strings.
enum GroupKey: Hashable, Sendable {
    case single(DatabaseValue)
    case many([DatabaseValue])

    init(_ values: [DatabaseValue]) {
        self = values.count == 1 ? .single(values[0]) : .many(values)
    }

    /// The key's column values, in order.
    var values: [DatabaseValue] {
        switch self {
        case .single(let value): [value]
        case .many(let values): values
        }
    }

    /// A stable text form for the late and dead-letter tables.
    var text: String {
        values.map { value -> String in
            switch value.storage {
            case .null: "null"
            case .int64(let number): String(number)
            case .double(let number): String(number)
            case .string(let text): text
            case .blob(let data): data.base64EncodedString()
            }
        }.joined(separator: ",")
    }
}
