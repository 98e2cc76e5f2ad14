/// The naming rules for topics, shared by the outbox and the log.
///
/// Topic names become folder names under `log/`, so they are held to Kafka's rules: 1 to 249
/// characters from `a-z A-Z 0-9 . _ -`, and not `.` or `..`. A name may start with a dot, as in
/// Kafka, but not be one of the log's own files in that folder (``reservedNames``), nor one of
/// those names followed by a dot and more: the log writes them aside as `.clean-shutdown.tmp`
/// before renaming them into place.
package enum TopicName {
    /// The longest topic name allowed (Kafka's limit).
    package static let maximumLength = 249
    /// The files the log keeps beside its topic folders: the writer's lock and the
    /// clean-shutdown marker.
    package static let reservedNames: Set<String> = [Log.lockName, Log.cleanShutdownName]

    /// Checks a topic name.
    /// - Parameter name: The name to check.
    /// - Throws: ``RunnelError`` with code `.invalidTopic`, saying which rule the name breaks.
    package static func validate(_ name: String) throws {
        let utf8 = name.utf8
        guard !utf8.isEmpty else {
            throw RunnelError(.invalidTopic, "the topic name is empty",
                              hint: "Name the topic with letters, digits, '.', '_' or '-', for example \"member-activity\"")
        }
        guard utf8.count <= maximumLength else {
            throw RunnelError(.invalidTopic, "the topic name \"\(name.prefix(40))…\" is \(utf8.count) bytes long, over the limit of \(maximumLength)",
                              hint: "Use a shorter topic name")
        }
        guard name != "." && name != ".." else {
            throw RunnelError(.invalidTopic, "the topic name \"\(name)\" is reserved",
                              hint: "Topic names become folder names; pick a name such as \"member-activity\"")
        }
        if let bad = name.unicodeScalars.first(where: { !isAllowed($0) }) {
            throw RunnelError(.invalidTopic, "the topic name \"\(name)\" contains \(describe(bad)), which topic names may not hold",
                              hint: "Use only letters a-z and A-Z, digits, '.', '_' and '-' (topic names become folder names)")
        }
        if let file = reservedNames.first(where: { name == $0 || name.hasPrefix($0) && name.utf8.dropFirst($0.utf8.count).first == UInt8(ascii: ".") }) {
            throw RunnelError(.invalidTopic, "the topic name \"\(name)\" collides with the log's own file \(file) in log/ (or the copy it writes aside, \(file).tmp)",
                              hint: "Pick another name: a topic name may start with '.', but may not be \(reservedNames.sorted().joined(separator: " or ")) or start with one of them and a '.'")
        }
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": true
        default: false
        }
    }

    private static func describe(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "/", "\\": "a path separator '\(scalar)'"
        case " ": "a space"
        default:
            scalar.properties.isWhitespace || scalar.value < 0x20
                ? "the control or space character U+\(String(scalar.value, radix: 16, uppercase: true))"
                : "the character '\(scalar)'"
        }
    }
}
