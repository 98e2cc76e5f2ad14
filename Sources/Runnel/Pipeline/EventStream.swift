import Foundation

/// A typed stream of events: where a pipeline starts (``Source``) and what each stage returns.
///
/// Stages chain fluently and each one's output type is the next one's input type, inferred, so
/// a pipeline that does not fit together does not compile:
///
/// ```swift
/// Source("member-activity", as: ActivityRecorded.self, time: \.occurredAt)
///     .filter { !$0.isBot }
///     .keyBy("member_id", \.memberId)
///     .window(.tumbling(.minutes(5)), lateness: .minutes(1)) {
///         Count("events")
///         Sum("dwell_ms", \.dwellMs)
///     }
///     .into(ReadView("member_engagement_5m", primaryKey: ["member_id", "window_start"]))
/// ```
///
/// A stream is a description: nothing runs until a ``PipelineRunner`` compiles it.
public struct EventStream<Event>: Sendable {
    /// The columns of the rows, for streams of ``ViewRow`` coming out of a window or aggregate.
    let schema: RowSchema?
    /// Wires the stream into a graph, handing each event to `downstream`.
    let connect: @Sendable (PipelineGraph, @escaping Emit<Event>) throws -> Void

    init(schema: RowSchema? = nil, connect: @escaping @Sendable (PipelineGraph, @escaping Emit<Event>) throws -> Void) {
        self.schema = schema
        self.connect = connect
    }
}

/// A stream that starts at a topic of the log: `Source("member-activity", as: …, time: …)`.
public typealias Source<Event> = EventStream<Event>

extension EventStream where Event: Decodable & SendableMetatype {
    /// Reads a topic, decoding each record's JSON value into `Event`.
    ///
    /// Records whose value does not decode go to the pipeline's dead-letter table with their
    /// topic, partition, offset and the decoding error; the pipeline goes on.
    ///
    /// - Parameters:
    ///   - topic: The topic to read, every partition of it.
    ///   - eventType: The type to decode each value into.
    ///   - type: Only records whose `type` header equals this (a topic often carries several
    ///     event types). By default the Swift type's own name (`ActivityRecorded` for
    ///     `ActivityRecorded.self`), the name an ``OutboxEvent`` gets when its `type` is not
    ///     given; pass another name where the writer used one, or nil to take every record.
    ///   - time: The event's event-time field: windows, lateness and the watermark use it.
    public init(_ topic: String, as eventType: Event.Type, type: String? = String(describing: Event.self), time: KeyPath<Event, Date> & Sendable) {
        let time = FieldReader(time)
        self.init(topic, as: eventType, type: type, eventTime: { time($0).checkedMillisecondsSince1970 })
    }

    /// Reads a topic whose events carry their time as milliseconds since 1970.
    public init(_ topic: String, as eventType: Event.Type, type: String? = String(describing: Event.self), time: KeyPath<Event, Int64> & Sendable) {
        let time = FieldReader(time)
        self.init(topic, as: eventType, type: type, eventTime: { event in
            let time = time(event)
            return time.magnitude < Date.eventTimeLimit.magnitude ? time : nil
        })
    }

    /// Reads a topic whose events carry a time but are not part of the stream's progress (a
    /// ticket's resolution, made by a person at any moment): their time is the events' own, yet
    /// never moves the partition's stream time, so they cannot make later exceptions late or
    /// close an hour early.
    init(commandsFrom topic: String, as eventType: Event.Type, type: String, time: KeyPath<Event, Date> & Sendable) {
        let time = FieldReader(time)
        self.init(topic, as: eventType, type: type, eventTime: { time($0).checkedMillisecondsSince1970 }, movesStreamTime: false)
    }

    /// - Parameters:
    ///   - eventTime: The event's time in milliseconds, nil when it is outside the years Runnel
    ///     takes (the event is then a dead letter).
    ///   - movesStreamTime: Whether the event's time moves its partition's stream time.
    private init(_ topic: String, as eventType: Event.Type, type: String?, eventTime: @escaping @Sendable (Event) -> Int64?,
                 movesStreamTime: Bool = true) {
        self.init { graph, downstream in
            let decoder = EventDecoder()
            let scratch = EventDecoder.Scratch()
            graph.bind(topic: topic, type: type) { bytes, meta, graph in
                let event: Event
                do {
                    event = try decoder.decode(Event.self, from: bytes, reusing: scratch)
                } catch {
                    graph.deadLetter("cannot decode \(Event.self): \(DecodingProblem.describe(error))")
                    return
                }
                guard let time = eventTime(event) else {
                    graph.deadLetter("the event time of \(Event.self) is outside the years 1 to 9999 (milliseconds since 1970 within ±\(Date.eventTimeLimit))")
                    return
                }
                var meta = meta
                meta.time = time
                // The partition's stream time moves before the event goes on, so an on-time
                // event is never judged late against a time older than itself.
                if movesStreamTime, meta.input >= 0 { graph.moveStreamTime(of: meta.input, to: meta.time) }
                try downstream(event, meta)
            }
        }
    }
}

/// Turns decoding errors into one line that says which field and what was wrong.
enum DecodingProblem {
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            let names = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return names.isEmpty ? "" : " at \(names.joined(separator: "."))"
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing field \(key.stringValue)\(path(context))"
        case .typeMismatch(_, let context): return "\(context.debugDescription)\(path(context))"
        case .valueNotFound(_, let context): return "\(context.debugDescription)\(path(context))"
        case .dataCorrupted(let context): return "\(context.debugDescription)\(path(context))"
        @unknown default: return "\(error)"
        }
    }
}
