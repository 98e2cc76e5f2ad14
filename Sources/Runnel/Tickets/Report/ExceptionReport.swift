import Foundation

/// Everything one hourly exception report shows, as plain values.
///
/// Whoever reads the ticket tables fills this in; ``markdown()`` and ``html()`` only format it,
/// so a report is a pure function of this value: the same value gives the same bytes, whatever
/// the order of its arrays, the machine's locale or time zone, or the time of rendering.
///
/// The renderers order everything themselves (see each array's documentation), comparing text
/// by its UTF-8 bytes rather than with `String`'s Unicode-aware `<`, so two names that differ
/// only in normalisation still sort the same way on every run.
public struct ExceptionReport: Sendable, Hashable {
    /// What the report is about, e.g. `"sample professional network"`.
    public var title: String
    /// The start of the hour reported, in UTC. A time within the hour counts as its start.
    public var hour: Date
    /// Every ticket with exceptions in the 24 hours ending with ``hour``, plus the tickets new or
    /// regressed this hour. New and regressed tickets are shown first (new before regressed, then
    /// most exceptions in 24 hours first, then by id), ongoing ones after in the same order.
    public var tickets: [Ticket]
    /// Exceptions per service per hour for the 24 hours ending with ``hour`` (the chart). Hours
    /// outside that window are ignored, missing hours count as zero, and several entries for one
    /// service and hour are added up.
    public var hourlyCounts: [ServiceHour]
    /// Exception type × level counts for the hour reported, one entry per pair (the producer
    /// groups). Shown by count, highest first, then by type, then by level.
    public var typesByLevel: [TypeLevelCount]

    public init(title: String, hour: Date, tickets: [Ticket], hourlyCounts: [ServiceHour], typesByLevel: [TypeLevelCount]) {
        self.title = title
        self.hour = hour
        self.tickets = tickets
        self.hourlyCounts = hourlyCounts
        self.typesByLevel = typesByLevel
    }

    /// The name of the report's files without extension, the UTC hour as `2026-01-05T13`: the
    /// report is written to `reports/exceptions/<fileStem>.md` and `.html`. Stems sort in time
    /// order as plain text.
    public var fileStem: String {
        ReportTime.fileStem(hourStart: ReportTime.hourStart(of: hour))
    }
}

extension ExceptionReport {
    /// One exception ticket: the exceptions of one fingerprint, as they stand at the report's hour.
    public struct Ticket: Sendable, Hashable {
        /// What happened to a ticket in the hour reported.
        public enum Change: String, Sendable, Hashable, CaseIterable {
            /// First seen this hour, or seen again this hour after a quiet spell longer than the
            /// baseline (new again for the service).
            case new
            /// Resolved before, and seen again this hour.
            case regressed
            /// Seen before this hour and not resolved, or seen in the last 24 hours only.
            case ongoing
        }

        /// The ticket's id, unique among the report's tickets: the 12 hex digits
        /// ``ExceptionTickets/ticketID(service:fingerprint:)`` gives it.
        public var id: String
        public var service: String
        /// Who looks after the ticket; `nil` is printed as "no owner".
        public var owner: String?
        /// The exception's type, e.g. `java.lang.NullPointerException`.
        public var exceptionType: String
        /// The log level, e.g. `ERROR`.
        public var level: String
        /// What groups exceptions into this ticket (e.g. a hash of type and top frames).
        public var fingerprint: String
        public var change: Change
        /// `"open"` or `"resolved"`, printed as given.
        public var state: String
        public var firstSeen: Date
        public var lastSeen: Date
        /// Exceptions in the 24 hours ending with the report's hour.
        public var countLast24h: Int64
        /// Exceptions per hour over the same 24 hours, oldest first. A shorter array is taken as
        /// the latest hours (the earlier ones count as zero); of a longer one, the last 24 count.
        public var countsByHour: [Int64]
        public var sampleMessage: String
        public var sampleStackTrace: String

        public init(
            id: String, service: String, owner: String?, exceptionType: String, level: String,
            fingerprint: String, change: Change, state: String, firstSeen: Date, lastSeen: Date,
            countLast24h: Int64, countsByHour: [Int64], sampleMessage: String, sampleStackTrace: String
        ) {
            self.id = id
            self.service = service
            self.owner = owner
            self.exceptionType = exceptionType
            self.level = level
            self.fingerprint = fingerprint
            self.change = change
            self.state = state
            self.firstSeen = firstSeen
            self.lastSeen = lastSeen
            self.countLast24h = countLast24h
            self.countsByHour = countsByHour
            self.sampleMessage = sampleMessage
            self.sampleStackTrace = sampleStackTrace
        }
    }

    /// The exceptions of one service in one hour.
    public struct ServiceHour: Sendable, Hashable {
        public var service: String
        /// The start of the hour (UTC); a time within the hour counts as its start.
        public var hour: Date
        public var count: Int64

        public init(service: String, hour: Date, count: Int64) {
            self.service = service
            self.hour = hour
            self.count = count
        }
    }

    /// The exceptions of one type at one level in the hour reported.
    public struct TypeLevelCount: Sendable, Hashable {
        public var exceptionType: String
        public var level: String
        public var count: Int64

        public init(exceptionType: String, level: String, count: Int64) {
            self.exceptionType = exceptionType
            self.level = level
            self.count = count
        }
    }
}
