import Foundation
import GRDB

/// The schedule tables of `app.sqlite`, where claims, leases and history live.
///
/// Schedule state is not derived data: it lives beside the business tables and survives a
/// rebuild of `derived.sqlite`. Every change happens inside a write transaction, and SQLite
/// serialises writers, so two schedulers reading a cursor and claiming a fire time never both
/// claim it; the key `(entry, fire_time)` makes a second row for one fire time impossible.
struct ScheduleLedger: Sendable {
    /// Who claims: this process, named in history rows and in the reasons of abandoned runs.
    let owner: String
    let host: String
    let pid: Int
    /// How long a claim holds without renewal.
    let lease: Duration
    /// How late a fire time may be reached and still count as on time.
    let grace: TimeSpan

    // MARK: - Claiming

    /// Records every fire time due at `now` for each schedule, as its policies say, and claims
    /// the next run of each entry that has nothing running.
    /// - Parameters:
    ///   - entries: The catalog's entries.
    ///   - now: The scheduler's time (for `schedule tick --at`, the instant ticked).
    ///   - realNow: The system's time, for leases: they are about live processes, whatever
    ///     instant is being ticked.
    ///   - notRun: Gets the fire times this claim recorded as not to be run (`skipped`,
    ///     `coalesced`), by entry, for the scheduler's metrics.
    func claim(_ entries: [ScheduleEntry], at now: Date, realNow: Date, in db: Database,
               notRun: inout [(entry: String, outcome: ScheduleRunRecord.Outcome)]) throws -> [ClaimedRun] {
        try reapExpiredLeases(at: realNow, in: db)
        var claimed: [ClaimedRun] = []
        for entry in entries {
            let schedule = entry.schedule
            let cursor = try cursor(of: schedule, at: now, realNow: realNow, in: db)
            let jitter = schedule.jitterMilliseconds
            let nowMs = now.millisecondsSince1970
            var due: [Int64] = []
            for fire in entry.expression.fireTimes(after: Date(millisecondsSince1970: cursor), in: entry.zone) {
                let ms = fire.millisecondsSince1970
                guard ms + jitter <= nowMs else { break }
                due.append(ms)
            }
            let busy = try runningRow(of: schedule.name, in: db) != nil
            if let last = due.last {
                notRun += try record(due, of: schedule, at: nowMs, recordedAt: realNow.millisecondsSince1970, busy: busy, in: db)
                    .map { (schedule.name, $0) }
                try db.execute(sql: "UPDATE runnel_schedule_entries SET cursor = ?, updated_at = ? WHERE entry = ?",
                               arguments: [last, realNow.millisecondsSince1970, schedule.name])
            }
            if !busy, let run = try claimNext(of: schedule, at: realNow, in: db) {
                claimed.append(run)
            }
        }
        return claimed
    }

    /// The entry's cursor: fire times up to it have a history row. A new entry, or one whose
    /// expression or zone changed, starts just before `now`: nothing before it is owed, and
    /// fire times the old expression queued are recorded `skipped`.
    private func cursor(of schedule: Schedule, at now: Date, realNow: Date, in db: Database) throws -> Int64 {
        let row = try Row.fetchOne(db, sql: "SELECT expression, time_zone, cursor FROM runnel_schedule_entries WHERE entry = ?", arguments: [schedule.name])
        if let row, row["expression"] as String == schedule.cron, row["time_zone"] as String == schedule.timeZoneIdentifier {
            return row["cursor"]
        }
        if let row {
            try db.execute(sql: """
                UPDATE runnel_schedule_runs SET outcome = 'skipped', finished_at = ?,
                    reason = 'the entry changed from ' || ? || ' (' || ? || ') before it ran'
                WHERE entry = ? AND outcome = 'queued'
                """, arguments: [realNow.millisecondsSince1970, row["expression"] as String, row["time_zone"] as String, schedule.name])
        }
        let start = now.millisecondsSince1970 - 1
        try db.execute(sql: """
            INSERT INTO runnel_schedule_entries (entry, expression, time_zone, cursor, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (entry) DO UPDATE SET expression = excluded.expression, time_zone = excluded.time_zone,
                cursor = excluded.cursor, updated_at = excluded.updated_at
            """, arguments: [schedule.name, schedule.cron, schedule.timeZoneIdentifier, start, realNow.millisecondsSince1970])
        return start
    }

    /// Writes a history row for each due fire time: to run (`queued`), or not, as the missed
    /// and overlap policies say.
    /// - Returns: The outcomes of the rows it wrote that are not to be run.
    private func record(_ due: [Int64], of schedule: Schedule, at now: Int64, recordedAt: Int64, busy: Bool,
                        in db: Database) throws -> [ScheduleRunRecord.Outcome] {
        let jitter = schedule.jitterMilliseconds
        let late = due.filter { now - ($0 + jitter) > grace.milliseconds }
        let onTime = due.filter { now - ($0 + jitter) <= grace.milliseconds }
        var outcomes: [(Int64, ScheduleRunRecord.Outcome, String?)] = []
        var notRun: [ScheduleRunRecord.Outcome] = []
        let missedReason = "missed: no scheduler ran at its time"
        switch schedule.missed {
        case .skip:
            outcomes += late.map { ($0, .skipped, missedReason) }
            outcomes += onTime.map { ($0, .queued, nil) }
        case .runOnce:
            let runs = Array((onTime.isEmpty ? Array(late.suffix(1)) : []) + onTime)
            let standIn = runs.first.map { Date(millisecondsSince1970: $0).iso8601() } ?? ""
            outcomes += late.filter { !runs.contains($0) }.map { ($0, .coalesced, "missed: the run for \(standIn) stood for it") }
            outcomes += runs.map { ($0, .queued, nil) }
        case .runAll(let max):
            let kept = Array(late.suffix(Swift.max(0, max)))
            outcomes += late.dropLast(kept.count).map { ($0, .skipped, "missed: more than \(max) missed runs to catch up") }
            outcomes += (kept + onTime).map { ($0, .queued, nil) }
        }
        for (fire, outcome, reason) in outcomes.sorted(by: { $0.0 < $1.0 }) {
            var outcome = outcome
            var reason = reason
            // A fire time that comes while the previous run is still going: the overlap policy.
            if outcome == .queued, busy, schedule.overlap == .skip, onTime.contains(fire) {
                outcome = .skipped
                reason = "overlap: the previous run was still going"
            }
            try db.execute(sql: """
                INSERT INTO runnel_schedule_runs (entry, fire_time, outcome, attempts, reason, finished_at)
                VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [schedule.name, fire, outcome.rawValue, reason, outcome == .queued ? nil : recordedAt])
            if outcome != .queued, db.changesCount > 0 { notRun.append(outcome) }
        }
        return notRun
    }

    /// Claims the entry's oldest queued fire time, or its oldest abandoned one that its
    /// policy retries.
    private func claimNext(of schedule: Schedule, at realNow: Date, in db: Database) throws -> ClaimedRun? {
        let retryLimit = schedule.retriesAbandoned ? schedule.maximumAttempts : 0
        guard let row = try Row.fetchOne(db, sql: """
            SELECT fire_time, attempts FROM runnel_schedule_runs
            WHERE entry = ? AND (outcome = 'queued' OR (outcome = 'abandoned' AND attempts < ?))
            ORDER BY fire_time LIMIT 1
            """, arguments: [schedule.name, retryLimit])
        else { return nil }
        let fire: Int64 = row["fire_time"]
        let attempt = (row["attempts"] as Int) + 1
        let now = realNow.millisecondsSince1970
        try db.execute(sql: """
            UPDATE runnel_schedule_runs
            SET outcome = 'running', attempts = ?, started_at = ?, finished_at = NULL, host = ?, pid = ?, owner = ?, lease_until = ?
            WHERE entry = ? AND fire_time = ?
            """, arguments: [attempt, now, host, pid, owner, now + lease.wholeMilliseconds, schedule.name, fire])
        return ClaimedRun(schedule: schedule, fireTime: Date(millisecondsSince1970: fire), attempt: attempt)
    }

    private func runningRow(of entry: String, in db: Database) throws -> Row? {
        try Row.fetchOne(db, sql: "SELECT fire_time FROM runnel_schedule_runs WHERE entry = ? AND outcome = 'running' LIMIT 1", arguments: [entry])
    }

    /// Marks runs whose process stopped renewing its lease `abandoned`, naming the process.
    private func reapExpiredLeases(at realNow: Date, in db: Database) throws {
        let now = realNow.millisecondsSince1970
        try db.execute(sql: """
            UPDATE runnel_schedule_runs
            SET outcome = 'abandoned', finished_at = ?,
                reason = 'attempt ' || attempts || ' abandoned: pid ' || pid || ' on ' || host || ' stopped renewing its lease'
                    || CASE WHEN reason IS NULL THEN '' ELSE '; ' || reason END
            WHERE outcome = 'running' AND lease_until < ?
            """, arguments: [now, now])
    }

    // MARK: - Running

    /// Extends the lease of a run this process holds.
    /// - Returns: False when the run is no longer this process's (its lease lapsed and another
    ///   scheduler marked it abandoned).
    func renew(_ run: ClaimedRun, at realNow: Date, in db: Database) throws -> Bool {
        try db.execute(sql: """
            UPDATE runnel_schedule_runs SET lease_until = ?
            WHERE entry = ? AND fire_time = ? AND owner = ? AND outcome = 'running'
            """, arguments: [realNow.millisecondsSince1970 + lease.wholeMilliseconds, run.schedule.name, run.fireTime.millisecondsSince1970, owner])
        return db.changesCount == 1
    }

    /// Records how a run ended.
    /// - Returns: False when the run was no longer this process's.
    func finish(_ run: ClaimedRun, error: String?, at realNow: Date, in db: Database) throws -> Bool {
        try db.execute(sql: """
            UPDATE runnel_schedule_runs
            SET outcome = ?, finished_at = ?, lease_until = NULL,
                reason = CASE WHEN ? IS NULL THEN reason ELSE ? || CASE WHEN reason IS NULL THEN '' ELSE '; ' || reason END END
            WHERE entry = ? AND fire_time = ? AND owner = ? AND outcome = 'running'
            """, arguments: [error == nil ? ScheduleRunRecord.Outcome.succeeded.rawValue : ScheduleRunRecord.Outcome.failed.rawValue,
                             realNow.millisecondsSince1970, error, error, run.schedule.name, run.fireTime.millisecondsSince1970, owner])
        return db.changesCount == 1
    }

    /// Deletes finished history rows of fire times older than `cutoff`.
    func prune(before cutoff: Date, in db: Database) throws {
        try db.execute(sql: """
            DELETE FROM runnel_schedule_runs WHERE fire_time < ? AND outcome NOT IN ('queued', 'running')
            """, arguments: [cutoff.millisecondsSince1970])
    }

    // MARK: - Reading

    /// History rows, newest fire time first.
    static func history(entry: String?, limit: Int, in db: Database) throws -> [ScheduleRunRecord] {
        let filter = entry == nil ? "" : "WHERE entry = ?"
        let arguments: StatementArguments = entry.map { [$0, limit] } ?? [limit]
        return try Row.fetchAll(db, sql: "SELECT * FROM runnel_schedule_runs \(filter) ORDER BY fire_time DESC, entry LIMIT ?", arguments: arguments).map(record)
    }

    /// One fire time's history row.
    static func record(of entry: String, at fireTime: Date, in db: Database) throws -> ScheduleRunRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM runnel_schedule_runs WHERE entry = ? AND fire_time = ?",
                         arguments: [entry, fireTime.millisecondsSince1970]).map(record)
    }

    private static func record(_ row: Row) -> ScheduleRunRecord {
        ScheduleRunRecord(
            entry: row["entry"], fireTime: Date(millisecondsSince1970: row["fire_time"]),
            // The table's CHECK constraint admits only the outcomes there are.
            outcome: ScheduleRunRecord.Outcome(rawValue: row["outcome"]) ?? .failed, attempts: row["attempts"], reason: row["reason"],
            startedAt: (row["started_at"] as Int64?).map(Date.init(millisecondsSince1970:)),
            finishedAt: (row["finished_at"] as Int64?).map(Date.init(millisecondsSince1970:)),
            host: row["host"], pid: row["pid"])
    }
}
