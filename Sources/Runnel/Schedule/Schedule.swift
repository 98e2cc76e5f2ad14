import Foundation

/// A job that runs at the fire times of a cron expression: running pipelines, log retention, a
/// KV publish, or any Swift closure.
///
/// ```swift
/// Schedule("engagement-every-5m", cron: "*/5 * * * *", job: .pipelines("member-engagement-5m"))
/// Schedule("retention-nightly", cron: "30 3 * * *", timeZone: "Europe/Berlin", missed: .runOnce, job: .logRetention)
/// ```
///
/// Each fire time runs once, however many schedulers share the home: a run is claimed by a row
/// in `app.sqlite` whose key is the entry and the fire time. Fire times missed while no
/// scheduler ran are handled by ``missed``; one that comes while the previous run is still going
/// by ``overlap``; a run whose process died is recorded `abandoned` and retried when
/// ``retriesAbandoned`` says so. Every fire time gets a history row (`runnel schedule history`).
public struct Schedule: Sendable {
    /// The entry's name: unique in the catalog, the key of its history.
    public let name: String
    /// The cron expression as written (5 fields or a macro such as `@hourly`).
    public let cron: String
    /// The IANA time zone the expression is read in (`Europe/Berlin`); UTC by default.
    public let timeZoneIdentifier: String
    /// What happens to fire times missed while no scheduler ran.
    public let missed: MissedRunPolicy
    /// What happens to a fire time that comes while the entry's previous run is still going.
    public let overlap: OverlapPolicy
    /// Whether a run whose process died (its lease expired) runs again, up to
    /// ``maximumAttempts`` attempts in all.
    public let retriesAbandoned: Bool
    /// The most attempts a fire time gets when runs are abandoned.
    public let maximumAttempts: Int
    /// Up to how long after each fire time the run starts, the same delay every time (hashed
    /// from the name), so entries sharing a fire time do not all start at once.
    public let jitter: TimeSpan
    /// What runs.
    public let job: ScheduledJob

    /// Declares a schedule entry. The expression and zone are checked with the catalog
    /// (``Catalog/validate()``), before anything runs.
    /// - Parameters:
    ///   - name: A unique name (letters, digits, `-`, `_`, `.`).
    ///   - cron: Five fields (`minute hour day-of-month month day-of-week`) or a macro.
    ///   - timeZone: An IANA zone identifier; `UTC` by default.
    ///   - missed: The missed-run policy; `.skip` by default.
    ///   - overlap: The overlap policy; `.skip` by default.
    ///   - retriesAbandoned: Whether an abandoned run is retried; true by default.
    ///   - maximumAttempts: The most attempts per fire time; 3 by default.
    ///   - jitter: The largest start delay after each fire time; none by default.
    ///   - job: What runs.
    public init(_ name: String, cron: String, timeZone: String = "UTC", missed: MissedRunPolicy = .skip, overlap: OverlapPolicy = .skip,
                retriesAbandoned: Bool = true, maximumAttempts: Int = 3, jitter: TimeSpan = .zero, job: ScheduledJob) {
        self.name = name
        self.cron = cron
        timeZoneIdentifier = timeZone
        self.missed = missed
        self.overlap = overlap
        self.retriesAbandoned = retriesAbandoned
        self.maximumAttempts = maximumAttempts
        self.jitter = jitter
        self.job = job
    }

    /// The parsed expression.
    /// - Throws: ``RunnelError`` `.schedule` naming the entry, the field and what is allowed.
    public func expression() throws -> CronExpression {
        do {
            return try CronExpression(cron)
        } catch let error as RunnelError {
            throw RunnelError(error.code, "schedule \(name): \(error.message)", hint: error.hint)
        }
    }

    /// The zone the expression is read in.
    /// - Throws: ``RunnelError`` `.schedule` when the identifier is not an IANA zone.
    public func timeZone() throws -> TimeZone {
        guard let zone = TimeZone(identifier: timeZoneIdentifier) else {
            throw RunnelError(.schedule, "schedule \(name): \(timeZoneIdentifier) is not a time zone",
                              hint: "Use an IANA identifier such as UTC, Europe/Berlin or America/New_York")
        }
        return zone
    }

    /// The entry's start delay after each fire time: a stable share of ``jitter``.
    var jitterMilliseconds: Int64 {
        guard jitter.milliseconds > 0 else { return 0 }
        // The log's key hash, over the name: the same entry waits the same time in every
        // process and run.
        return Int64(UInt32(bitPattern: Murmur2.hash(name.utf8))) % jitter.milliseconds
    }

    /// The policies as one line, for `schedule list`.
    package var policyDescription: String {
        var parts = ["missed: \(missed)", "overlap: \(overlap)"]
        parts.append(retriesAbandoned ? "abandoned: retry ×\(maximumAttempts)" : "abandoned: no retry")
        if jitter.milliseconds > 0 { parts.append("jitter \(jitter)") }
        return parts.joined(separator: "; ")
    }
}

/// What happens to fire times that passed while no scheduler ran (downtime).
///
/// A fire time counts as missed when the scheduler reaches it more than a minute late. Every
/// missed fire time gets a history row, whatever the policy.
public enum MissedRunPolicy: Sendable, Hashable, CustomStringConvertible {
    /// Run none of them: each is recorded `skipped`.
    case skip
    /// Run once, for the latest of them; the others are recorded `coalesced`.
    case runOnce
    /// Run each of the latest `max`, oldest first; any older ones are recorded `skipped`.
    case runAll(max: Int)

    public var description: String {
        switch self {
        case .skip: "skip"
        case .runOnce: "run once"
        case .runAll(let max): "run all (max \(max))"
        }
    }
}

/// What happens to a fire time that comes while the entry's previous run is still going.
public enum OverlapPolicy: Sendable, Hashable, CustomStringConvertible {
    /// Record it `skipped`.
    case skip
    /// Run it when the previous run ends (recorded `queued` until then).
    case queue

    public var description: String {
        switch self {
        case .skip: "skip"
        case .queue: "queue"
        }
    }
}
