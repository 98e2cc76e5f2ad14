import Metrics

/// A scheduler's metrics (`docs/metrics.md`): made once per scheduler for each entry of the
/// catalog, with the entry's name and the run's outcome as dimensions.
struct ScheduleMetrics: Sendable {
    /// The outcomes a scheduler counts: how the runs it made ended, and the fire times it
    /// recorded as not to be run. `queued` and `running` are states, not ends; `abandoned` is
    /// found by whichever scheduler reaps the lease, and shows in the history.
    static let countedOutcomes: [ScheduleRunRecord.Outcome] = [.succeeded, .failed, .skipped, .coalesced]

    private struct Entry: Sendable {
        let runs: [ScheduleRunRecord.Outcome: Counter]
        let duration: Metrics.Timer
    }

    private let entries: [String: Entry]

    init(entries: [String]) {
        var made: [String: Entry] = [:]
        for name in entries {
            let runs = Dictionary(uniqueKeysWithValues: Self.countedOutcomes.map { outcome in
                (outcome, Counter(label: "runnel_schedule_runs_total", dimensions: [("entry", name), ("outcome", outcome.rawValue)]))
            })
            made[name] = Entry(runs: runs, duration: Metrics.Timer(label: "runnel_schedule_run_duration_seconds", dimensions: [("entry", name)]))
        }
        self.entries = made
    }

    /// Counts a fire time recorded with `outcome`, once its transaction committed.
    func recorded(_ entry: String, _ outcome: ScheduleRunRecord.Outcome) {
        entries[entry]?.runs[outcome]?.increment()
    }

    /// Counts a run this scheduler finished and recorded, with how long its job took.
    func finished(_ entry: String, succeeded: Bool, took duration: Duration) {
        recorded(entry, succeeded ? .succeeded : .failed)
        entries[entry]?.duration.record(duration: duration)
    }
}
