import Foundation
import GRDB
import Logging

/// Runs a catalog's schedule entries against a home: claims what is due, runs it, records how
/// it went.
///
/// ```swift
/// let scheduler = try Scheduler(store: store, catalog: catalog)
/// let runs = try await scheduler.tick(at: Date())       // what is due now, run to the end
/// ```
///
/// ``SchedulerService`` runs it as a long-running service; `runnel schedule run` and
/// `runnel schedule tick` are its command-line faces. Any number of schedulers may share a
/// home: each fire time is claimed by one (see ``Schedule``).
public final class Scheduler: Sendable {
    /// Settings shared by every entry.
    public struct Options: Sendable {
        /// How long a claim holds without renewal; a running job renews it every third of
        /// this. A run whose process died is found abandoned this long after its last renewal.
        public var lease: Duration
        /// How late a fire time may be reached and still count as on time rather than missed.
        public var grace: TimeSpan
        /// How long history rows are kept (by fire time).
        public var historyRetention: TimeSpan

        public init(lease: Duration = .seconds(30), grace: TimeSpan = .minutes(1), historyRetention: TimeSpan = .days(30)) {
            self.lease = lease
            self.grace = grace
            self.historyRetention = historyRetention
        }
    }

    public let store: Store
    public let catalog: Catalog
    public let clock: any WallClock
    public let options: Options
    private let entries: [ScheduleEntry]
    private let ledger: ScheduleLedger
    private let logger: Logger
    /// Made once per scheduler, for every entry.
    private let metrics: ScheduleMetrics

    /// Creates a scheduler for the catalog's schedules.
    /// - Parameters:
    ///   - store: The home's store; history lives in its `app.sqlite`.
    ///   - catalog: The entries, and the pipelines their jobs name.
    ///   - clock: Where ``SchedulerService`` reads the time; the system's by default.
    ///   - options: Lease, grace and history retention.
    ///   - logger: Where runs are logged.
    /// - Throws: ``RunnelError`` `.schedule` when an entry's expression or zone is invalid.
    public init(store: Store, catalog: Catalog, clock: any WallClock = SystemWallClock(), options: Options = Options(),
                logger: Logger = Logger(label: "runnel.schedule")) throws {
        entries = try catalog.schedules.map(ScheduleEntry.init)
        self.store = store
        self.catalog = catalog
        self.clock = clock
        self.options = options
        self.logger = logger
        let host = ProcessInfo.processInfo.hostName
        let pid = Int(ProcessInfo.processInfo.processIdentifier)
        metrics = ScheduleMetrics(entries: entries.map(\.schedule.name))
        ledger = ScheduleLedger(owner: "\(host):\(pid):\(UUID().uuidString)", host: host, pid: pid, lease: options.lease, grace: options.grace)
    }

    // MARK: - Ticking

    /// Records everything due at `now` and runs it to the end, entries side by side and each
    /// entry's runs one after another (catch-ups, queued fire times), then returns the runs it
    /// made, in order.
    ///
    /// `now` is the instant being ticked: `tick(at:)` with a past instant records and runs
    /// what was due then (a backfill), while leases use the system's time.
    /// - Throws: ``RunnelError`` `.database` when `app.sqlite` fails. A job that throws does not
    ///   throw here: its run is recorded `failed`.
    @discardableResult
    public func tick(at now: Date) async throws -> [ScheduleRunRecord] {
        var finished: [ScheduleRunRecord] = []
        var claims = try claim(at: now)
        while !claims.isEmpty {
            let ran = await withTaskGroup(of: ScheduleRunRecord?.self) { group in
                for run in claims { group.addTask { await self.execute(run) } }
                var records: [ScheduleRunRecord] = []
                for await record in group { if let record { records.append(record) } }
                return records
            }
            finished += ran
            // Queued fire times of the entries that just finished run next.
            claims = try claim(at: now)
        }
        return finished.sorted { ($0.fireTime, $0.entry) < ($1.fireTime, $1.entry) }
    }

    /// Records what is due at `now` and claims the next run of each idle entry.
    func claim(at now: Date) throws -> [ClaimedRun] {
        let entries = entries
        let ledger = ledger
        let retention = options.historyRetention
        let (claimed, notRun) = try RunnelError.naming(store.app.path, "claiming scheduled runs") {
            try store.app.write { db in
                let realNow = Date()
                var notRun: [(entry: String, outcome: ScheduleRunRecord.Outcome)] = []
                let claimed = try ledger.claim(entries, at: now, realNow: realNow, in: db, notRun: &notRun)
                // Kept relative to the earlier of the two times: a backfill of old instants
                // keeps what it records, and a tick of a later instant deletes nothing early.
                let reference = min(now, realNow).millisecondsSince1970
                try ledger.prune(before: Date(millisecondsSince1970: reference - retention.milliseconds), in: db)
                return (claimed, notRun)
            }
        }
        // Counted once the claim committed.
        for (entry, outcome) in notRun { metrics.recorded(entry, outcome) }
        return claimed
    }

    /// Runs a claimed job on a thread of its own, renewing its lease meanwhile, and records
    /// how it ended.
    /// - Returns: The run's history row, or nil when the run was taken from this process
    ///   (its lease lapsed) before it finished.
    func execute(_ run: ClaimedRun) async -> ScheduleRunRecord? {
        let context = ScheduledRun(entry: run.schedule.name, fireTime: run.fireTime, attempt: run.attempt, store: store, catalog: catalog, logger: logger)
        FaultPoint("schedule-claimed-before-job").reach()
        let started = ContinuousClock.now
        // The job and its lease renewal side by side; the renewal stops when the job ends.
        enum Ended: Sendable { case job(failure: String?), renewals }
        let failure: String? = await withTaskGroup(of: Ended.self) { group in
            group.addTask {
                do {
                    try await ServiceThread.run(named: "runnel.schedule") { try await run.schedule.job.body(context) }
                    return .job(failure: nil)
                } catch {
                    return .job(failure: "\(error)")
                }
            }
            group.addTask {
                await self.renewLease(of: run)
                return .renewals
            }
            var failure: String?
            for await ended in group {
                if case .job(let jobFailure) = ended {
                    failure = jobFailure
                    group.cancelAll()
                }
            }
            return failure
        }
        let took = ContinuousClock.now - started
        do {
            let ledger = ledger
            let owned = try await store.app.write { db in try ledger.finish(run, error: failure, at: Date(), in: db) }
            if owned { metrics.finished(run.schedule.name, succeeded: failure == nil, took: took) }
            guard owned else {
                logger.warning("a scheduled run outlived its lease and was taken over", metadata: [
                    "runnel.schedule.entry": "\(run.schedule.name)", "runnel.schedule.fire_time": "\(run.fireTime.iso8601())",
                ])
                return nil
            }
        } catch {
            logger.error("cannot record a scheduled run", metadata: ["runnel.schedule.entry": "\(run.schedule.name)", "runnel.error": "\(error)"])
            return nil
        }
        if let failure {
            logger.warning("scheduled run failed", metadata: ["runnel.schedule.entry": "\(run.schedule.name)", "runnel.error": "\(failure)"])
        }
        return try? await store.app.read { db in try ScheduleLedger.record(of: run.schedule.name, at: run.fireTime, in: db) }
    }

    /// Renews a run's lease every third of the lease until cancelled (the job ended).
    private func renewLease(of run: ClaimedRun) async {
        let ledger = ledger
        while !Task.isCancelled {
            try? await Task.sleep(for: options.lease / 3)
            if Task.isCancelled { return }
            do {
                let owned = try await store.app.write { db in try ledger.renew(run, at: Date(), in: db) }
                if !owned { return }
            } catch {
                // The next renewal tries again; a lapsed lease is found and recorded by the
                // next claim.
                logger.warning("cannot renew a scheduled run's lease", metadata: ["runnel.schedule.entry": "\(run.schedule.name)", "runnel.error": "\(error)"])
            }
        }
    }

    // MARK: - Reading

    /// When the scheduler next has something to do after `now`: the earliest next fire time
    /// (with its jitter) of any entry.
    public func nextWake(after now: Date) -> Date? {
        entries.compactMap { entry -> Date? in
            let jitter = Double(entry.schedule.jitterMilliseconds) / 1000
            // The fire time whose jittered start is after `now`: look from `now - jitter`.
            return entry.expression.nextFireTime(after: now.addingTimeInterval(-jitter), in: entry.zone)?.addingTimeInterval(jitter)
        }.min()
    }

    /// History rows, newest fire time first.
    /// - Parameters:
    ///   - entry: One entry's rows, or every entry's.
    ///   - limit: The most rows.
    public func history(entry: String? = nil, limit: Int = 100) throws -> [ScheduleRunRecord] {
        try Self.history(of: store, entry: entry, limit: limit)
    }

    /// History rows of a home, newest fire time first (for readers without a scheduler).
    public static func history(of store: Store, entry: String? = nil, limit: Int = 100) throws -> [ScheduleRunRecord] {
        try RunnelError.naming(store.app.path, "reading schedule history") {
            try store.app.read { db in try ScheduleLedger.history(entry: entry, limit: limit, in: db) }
        }
    }
}
