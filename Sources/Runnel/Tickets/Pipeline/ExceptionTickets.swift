import Crypto
import Foundation
import GRDB

/// Exception tickets for a catalog: one pipeline that turns a topic of exceptions into one
/// ticket per service and fingerprint, with hourly counts, new/returned/regressed changes, and
/// announcements on a tickets topic.
///
/// ```swift
/// let owners = LookupTable<OwnerRow>("service_owners", key: "service")
/// let tickets = ExceptionTickets(topic: "service-exceptions", inAppPrefixes: ["com.example."]) {
///     Source("service-exceptions", as: ExceptionLogged.self, time: \.occurredAt)
///         .enrich(from: owners, on: \.service, ifMissing: .substitute(.none)) { exception, owner in
///             ExceptionOccurrence(service: exception.service, host: exception.host, level: exception.level,
///                                 exceptionType: exception.exceptionType, message: exception.message,
///                                 stackTrace: exception.stackTrace, occurredAt: exception.occurredAt,
///                                 version: exception.serviceVersion, owners: owner.emails)
///         }
/// }
/// Catalog(name: "shop", pipelines: [...], tickets: tickets)
/// ```
///
/// The pipeline also reads ``TicketResolved`` events from `topic`: resolutions travel with the
/// exceptions, keyed by the service, so each service's exceptions and resolutions are applied in
/// one order, the log's, whatever the batches. That is what makes the tickets the same after a
/// rebuild: every decision about a ticket depends only on its service's partition.
///
/// Tables in `derived.sqlite`, owned by the pipeline like read views (`runnel inspect table NAME --db derived`):
/// ``ticketsTable``, ``hoursTable``, ``levelsTable``, ``hostsTable`` and ``changesTable``.
public struct ExceptionTickets: Sendable {
    /// One row per ticket.
    public static let ticketsTable = "exception_tickets"
    /// Exceptions per ticket per hour.
    public static let hoursTable = "exception_ticket_hours"
    /// Exceptions per ticket, hour and level.
    public static let levelsTable = "exception_ticket_levels"
    /// Exceptions per ticket and host.
    public static let hostsTable = "exception_ticket_hosts"
    /// Each ticket's history: opened, returned, regressed, resolved.
    public static let changesTable = "exception_ticket_changes"
    /// The `type` header of ``TicketResolved`` events.
    public static let resolvedType = "TicketResolved"
    /// The event types the pipeline writes to the tickets topic.
    public static let announcedTypes = ["TicketOpened", "TicketReopened", "TicketCountsUpdated"]

    /// The pipeline's name.
    public var pipelineName: String
    /// The pipeline's version; bump it when the settings or the mapping change.
    public var version: Int
    /// The topic the exceptions (and resolutions) are on, keyed by service.
    public var topic: String
    /// Where ticket changes are announced, through `derived.sqlite`'s outbox.
    public var ticketsTopic: String
    /// How exceptions are grouped.
    public var fingerprinter: Fingerprinter
    /// How long a fingerprint must have been quiet to count as new again.
    public var baseline: TimeSpan
    /// How long after an hour's end its counts wait for stragglers before they are announced.
    public var lateness: TimeSpan
    /// The application's exceptions, as occurrences.
    public let occurrences: EventStream<ExceptionOccurrence>

    /// - Parameters:
    ///   - pipeline: The pipeline's name.
    ///   - version: The version of its logic (see ``Pipeline``).
    ///   - topic: The topic the application's exception events are on, keyed by service;
    ///     resolutions are written there too.
    ///   - ticketsTopic: Where `TicketOpened`, `TicketReopened` and `TicketCountsUpdated` go.
    ///   - inAppPrefixes: Which frames are the application's own (see ``Fingerprinter``).
    ///   - baseline: A fingerprint quiet for longer than this is new again (7 days).
    ///   - lateness: How long counts of a closed hour wait for late exceptions (5 minutes).
    ///   - occurrences: The stream of the application's exceptions, mapped to occurrences.
    public init(pipeline: String = "exception-tickets", version: Int = 1, topic: String, ticketsTopic: String = "tickets",
                inAppPrefixes: [String], baseline: TimeSpan = .days(7), lateness: TimeSpan = .minutes(5),
                occurrences: () -> EventStream<ExceptionOccurrence>) {
        self.pipelineName = pipeline
        self.version = version
        self.topic = topic
        self.ticketsTopic = ticketsTopic
        self.fingerprinter = Fingerprinter(inAppPrefixes: inAppPrefixes)
        self.baseline = baseline
        self.lateness = lateness
        self.occurrences = occurrences()
    }

    /// The tickets pipeline.
    public var pipeline: Pipeline {
        let tickets = self
        return Pipeline(pipelineName, version: version, description: "Exception tickets from \(topic), announced on \(ticketsTopic)") {
            PipelineOutput { graph in
                try TopicName.validate(tickets.topic)
                try TopicName.validate(tickets.ticketsTopic)
                try tickets.validateSpans()
                let state = TicketsOperator(tickets)
                for table in TicketTables.all { try graph.declare(table) }
                try tickets.occurrences.connect(graph) { occurrence, meta in
                    state.take(occurrence, meta, graph)
                }
                try EventStream(commandsFrom: tickets.topic, as: TicketResolved.self, type: Self.resolvedType, time: \.resolvedAt)
                    .connect(graph) { resolution, meta in state.take(resolution, meta, graph) }
                graph.register(state)
            }
        }
    }

    /// The baseline from a minute to ten years, the lateness from none to a year.
    private func validateSpans() throws {
        guard (TimeSpan.minutes(1)...TimeSpan.days(3_653)).contains(baseline) else {
            throw RunnelError(.pipeline, "the tickets pipeline \(pipelineName) has a baseline of \(baseline)",
                              hint: "Give a baseline from 1 minute to 10 years (7 days by default): ExceptionTickets(baseline: .days(7))")
        }
        guard (TimeSpan.zero...TimeSpan.days(366)).contains(lateness) else {
            throw RunnelError(.pipeline, "the tickets pipeline \(pipelineName) has a lateness of \(lateness)",
                              hint: "Give a lateness from 0 to a year (5 minutes by default): ExceptionTickets(lateness: .minutes(5))")
        }
    }

    /// A ticket's id: the first 12 hex digits of the SHA-256 of its service and fingerprint id,
    /// so the same exceptions give the same ticket id in every run, rebuild and installation.
    public static func ticketID(service: String, fingerprint: String) -> String {
        let digest = SHA256.hash(data: Array("\(service)\n\(fingerprint)\n".utf8))
        return String(ExceptionFingerprint.hexID(digest).prefix(12))
    }
}
