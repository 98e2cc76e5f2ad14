import Foundation
import GRDB

/// A sink that announces derived events on a topic, through `derived.sqlite`'s outbox in the
/// batch's transaction: the events commit with the offsets that produced them, so a derived
/// stream is exactly-once too. The relay publishes them like any other outbox row.
///
/// ```swift
/// .into(Topic("engagement-spikes", type: "EngagementSpike", key: { "\($0.memberId)" }))
/// ```
///
/// A rebuild replays the pipeline and announces its events again.
public struct Topic<Event: Encodable & Sendable>: Sendable {
    public let name: String
    public let type: String
    public let schemaVersion: Int
    let key: @Sendable (Event) -> String?

    /// - Parameters:
    ///   - name: The topic.
    ///   - type: The event type written in each record's `type` header.
    ///   - schemaVersion: The payload's schema version.
    ///   - key: The ordering key of each event (nil for none).
    public init(_ name: String, type: String, schemaVersion: Int = 1, key: @escaping @Sendable (Event) -> String?) {
        self.name = name
        self.type = type
        self.schemaVersion = schemaVersion
        self.key = key
    }
}

/// Buffers a batch's derived events and appends them to the derived outbox at its end.
final class TopicWriter<Event: Encodable & Sendable>: PipelineOperator, EventTypeEmitting {
    let topic: Topic<Event>
    var emittedEventTypes: [String] { [topic.type] }
    private var pending: [(event: Event, key: String?, meta: EventMeta)] = []

    var shape: String { "topic \(topic.name) type \(topic.type) schema \(topic.schemaVersion)" }

    init(_ topic: Topic<Event>) {
        self.topic = topic
    }

    func take(_ event: Event, key: String?, _ meta: EventMeta) {
        pending.append((event, key, meta))
    }

    func restore(_ db: Database, graph: PipelineGraph) throws {}

    func flush(_ db: Database, graph: PipelineGraph) throws {
        for (event, key, meta) in pending {
            try graph.store.outbox.append(OutboxEvent(
                topic: topic.name, key: key, type: topic.type, schemaVersion: topic.schemaVersion,
                payload: event, headers: meta.isRetraction ? ["retraction": "true"] : [:],
                eventTime: Date(millisecondsSince1970: meta.time)), in: db)
        }
        pending.removeAll(keepingCapacity: true)
    }
}

extension EventStream where Event: Encodable & Sendable {
    /// Ends the stream in a derived topic.
    public func into(_ topic: Topic<Event>) -> PipelineOutput {
        PipelineOutput { graph in
            try TopicName.validate(topic.name)
            let writer = TopicWriter(topic)
            try connect(graph) { event, meta in
                let key = topic.key(event)
                if graph.rejectsMissingColumns(meta, stage: "topic \(topic.name)") { return }
                writer.take(event, key: key, meta)
            }
            graph.register(writer)
        }
    }
}

extension ViewRow: Encodable {
    /// A row encodes as a JSON object from column name to value (blobs in base64).
    public func encode(to encoder: any Encoder) throws {
        struct Name: CodingKey {
            let stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        var container = encoder.container(keyedBy: Name.self)
        for (column, value) in zip(schema.columns, values) {
            let key = Name(stringValue: column.name)
            switch value.storage {
            case .null: try container.encodeNil(forKey: key)
            case .int64(let number): try container.encode(number, forKey: key)
            case .double(let number): try container.encode(number, forKey: key)
            case .string(let text): try container.encode(text, forKey: key)
            case .blob(let data): try container.encode(data, forKey: key)
            }
        }
    }
}

/// An operator that writes events to the derived outbox, so a catalog that declares its event
/// types knows the pipelines' own.
protocol EventTypeEmitting {
    var emittedEventTypes: [String] { get }
}
