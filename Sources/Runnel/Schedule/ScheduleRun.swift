import Foundation

/// One fire time of a schedule entry as its history row (`runnel_schedule_runs`) holds it.
public struct ScheduleRunRecord: Sendable, Hashable {
    /// Where a fire time stands.
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        /// Waiting to run: behind the entry's run in hand, or a catch-up after downtime.
        case queued
        /// Running now, in the process the row names, which renews its lease.
        case running
        /// The job finished.
        case succeeded
        /// The job threw; ``ScheduleRunRecord/reason`` holds the error.
        case failed
        /// Not run, by policy: missed while no scheduler ran, or came while the previous run was going.
        case skipped
        /// Not run on its own: a later catch-up run stood for it (`.runOnce`).
        case coalesced
        /// Its process stopped renewing the lease (it died) before the job finished.
        case abandoned
    }

    public let entry: String
    public let fireTime: Date
    public let outcome: Outcome
    /// How many times the job started for this fire time.
    public let attempts: Int
    /// Why it was skipped, coalesced or abandoned, or the error it failed with.
    public let reason: String?
    public let startedAt: Date?
    public let finishedAt: Date?
    /// The host and process of the latest attempt.
    public let host: String?
    public let pid: Int?

    /// How long the latest attempt took, once it ended.
    public var duration: Duration? {
        guard let startedAt, let finishedAt else { return nil }
        return .milliseconds(finishedAt.millisecondsSince1970 - startedAt.millisecondsSince1970)
    }
}

/// An entry with its expression and zone, parsed once when the scheduler is made.
struct ScheduleEntry: Sendable {
    let schedule: Schedule
    let expression: CronExpression
    let zone: TimeZone

    init(_ schedule: Schedule) throws {
        self.schedule = schedule
        expression = try schedule.expression()
        zone = try schedule.timeZone()
    }
}

/// A run a scheduler has claimed and must now execute and finish.
struct ClaimedRun: Sendable {
    let schedule: Schedule
    let fireTime: Date
    let attempt: Int
}
