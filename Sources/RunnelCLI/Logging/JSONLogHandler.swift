import Foundation
import Logging
import Runnel

/// A swift-log handler that writes each event as one JSON object on one line, for log
/// collectors (journald, Loki, Vector): `{"time":"2026-01-05T13:00:00.123Z","level":"info",
/// "logger":"runnel.relay","message":"relay progress","metadata":{"relay.backlog.rows":"0"},
/// "source":"Runnel","pid":4242}`. Metadata values are strings, lists and dictionaries as
/// swift-log gives them; keys are sorted, so equal events give equal lines.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    private let write: @Sendable (String) -> Void

    /// - Parameters:
    ///   - label: The logger's label, written as `logger`.
    ///   - write: Receives each line, newline included.
    init(label: String, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.write = write
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var fields: [(key: String, value: String)] = [
            ("time", JSONText.quoted(Self.timestamp())),
            ("level", JSONText.quoted(event.level.rawValue)),
            ("logger", JSONText.quoted(label)),
            ("message", JSONText.quoted(event.message.description)),
        ]
        if !merged.isEmpty { fields.append(("metadata", Self.json(.dictionary(merged)))) }
        fields.append(("source", JSONText.quoted(event.source)))
        fields.append(("pid", String(getpid())))
        write(JSONText.object(fields) + "\n")
    }

    private static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): JSONText.quoted(text)
        case .stringConvertible(let value): JSONText.quoted(value.description)
        case .array(let values): "[" + values.map(json).joined(separator: ",") + "]"
        case .dictionary(let entries): JSONText.object(entries.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) })
        }
    }

    /// ISO 8601 in UTC with milliseconds.
    private static func timestamp() -> String {
        Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
