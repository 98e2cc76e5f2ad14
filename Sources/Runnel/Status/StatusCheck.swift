import Foundation

/// The rules of `runnel status --check`: what in a ``HomeStatus`` needs someone, one line each,
/// so cron or a monitor can run it and alert on a non-zero exit.
package struct StatusCheck: Sendable, Equatable {
    /// An outbox row waiting longer than this means the relay is down or behind.
    package var maximumBacklogAge: Duration = .seconds(60)
    /// A pipeline, handler or coordinator with more records waiting than this is behind.
    package var maximumLagEvents: Int64 = 10_000
    /// … or further behind in event time than this. Above the few minutes a pipeline that a
    /// schedule runs every 5 minutes falls behind between its runs.
    package var maximumLag: Duration = .seconds(900)

    package init() {}

    /// One thing that needs someone: `pipeline member-sessions: 25000 records waiting (over 10000)`.
    package struct Problem: Sendable, Equatable, Codable, CustomStringConvertible {
        /// What it concerns: `outbox app.sqlite`, `pipeline NAME`, `saga NAME`, `log`, `kv/NAME`, …
        package var subject: String
        package var message: String

        package var description: String { "\(subject): \(message)" }
    }

    /// The problems in a status, in the order the status lists its parts.
    package func problems(in status: HomeStatus) -> [Problem] {
        var problems: [Problem] = []
        for database in status.databases {
            if let age = database.oldestPendingMs, age > maximumBacklogAge.wholeMilliseconds {
                problems.append(Problem(subject: "outbox \(database.database)",
                                        message: "\(database.outboxBacklog) row\(database.outboxBacklog == 1 ? "" : "s") waiting, the oldest for \(Self.duration(age)) (over \(Self.duration(maximumBacklogAge.wholeMilliseconds))): is the relay running?"))
            }
        }
        let runners = status.pipelines.map { ("pipeline", $0) } + status.handlers.map { ("handler", $0) }
            + status.sagas.map { ("saga coordinator", $0.coordinator) }
        for (kind, runner) in runners {
            if runner.state.hasPrefix("needs rebuild") {
                problems.append(Problem(subject: "\(kind) \(runner.name)", message: "\(runner.state): run `runnel run \(runner.name) --rebuild`"))
            }
            if runner.lagEvents > maximumLagEvents {
                problems.append(Problem(subject: "\(kind) \(runner.name)", message: "\(runner.lagEvents) records waiting (over \(maximumLagEvents))"))
            } else if runner.lagEvents > 0, runner.lagMs > maximumLag.wholeMilliseconds {
                problems.append(Problem(subject: "\(kind) \(runner.name)",
                                        message: "\(Self.duration(runner.lagMs)) behind in event time (over \(Self.duration(maximumLag.wholeMilliseconds)))"))
            }
        }
        for saga in status.sagas {
            if saga.failed > 0 {
                problems.append(Problem(subject: "saga \(saga.saga)",
                                        message: "\(saga.failed) failed instance\(saga.failed == 1 ? " needs" : "s need") an operator: `runnel saga list --saga \(saga.saga) --state failed`"))
            }
            if saga.pastDeadline > 0 {
                problems.append(Problem(subject: "saga \(saga.saga)",
                                        message: "\(saga.pastDeadline) instance\(saga.pastDeadline == 1 ? "" : "s") past \(saga.pastDeadline == 1 ? "its" : "their") deadline: is its coordinator running?"))
            }
        }
        for store in status.kvStores {
            if let problem = store.problem { problems.append(Problem(subject: "kv/\(store.store)", message: problem)) }
        }
        for schedule in status.schedules where schedule.lastOutcome == "failed" || schedule.lastOutcome == "abandoned" {
            problems.append(Problem(subject: "schedule \(schedule.entry)",
                                    message: "its last run \(schedule.lastOutcome!)\(schedule.lastReason.map { ": \($0)" } ?? ""): `runnel schedule history \(schedule.entry)`"))
        }
        for verification in status.verifications where verification.damaged > 0 {
            let isLog = verification.target == Verifications.logTarget
            let command = isLog ? "runnel log verify" : "runnel kv verify \(verification.target.dropFirst(3))"
            let mend = isLog ? "cut damaged batches with `runnel log repair --yes`, restore lost segments from a backup (or run pipelines with --skip-gap)"
                : "roll back with `runnel kv rollback \(verification.target.dropFirst(3)) --to N` or publish a new version"
            problems.append(Problem(subject: verification.target,
                                    message: "the last verify found \(verification.damaged) damaged place\(verification.damaged == 1 ? "" : "s")"
                                        + (verification.firstDamage.map { ", first: \($0)" } ?? "") + "; \(mend), then run `\(command)` again"))
        }
        return problems
    }

    /// `850ms`, `42s`, `12m 5s`, `3h 2m`.
    package static func duration(_ milliseconds: Int64) -> String {
        if milliseconds < 1_000 { return "\(milliseconds)ms" }
        let seconds = milliseconds / 1_000
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3_600 { return "\(seconds / 60)m \(seconds % 60)s" }
        return "\(seconds / 3_600)h \(seconds % 3_600 / 60)m"
    }
}
