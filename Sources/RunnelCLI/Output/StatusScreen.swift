import Foundation
import GRDB
import Runnel

/// `runnel status` as a person reads it: a headline, then one small table per part, then the
/// problems.
struct StatusScreen {
    let status: HomeStatus
    let console: Console

    func print() {
        let clock = RowPrinter.TimeText()
        console.print("Runnel home \(status.home) at \(clock.iso(status.readAt))")
        console.print("relay: " + (status.relayPid.map { "running (pid \($0))" } ?? "not running"))
        section("outboxes", ["database", "backlog", "oldest_pending", "dead_letters"], status.databases.map {
            [$0.database, $0.outboxBacklog, $0.oldestPendingMs.map(StatusCheck.duration) ?? "-", $0.outboxDeadLetters]
        })
        section("topics", ["topic", "records", "bytes", "end_offsets", "newest_at"], status.topics.map {
            [$0.name, $0.records, $0.bytes, $0.endOffsets.map(String.init).joined(separator: " "), $0.newestTimestamp]
        })
        runners("pipelines", status.pipelines, pipelines: true)
        runners("handlers", status.handlers, pipelines: false)
        section("sagas", ["saga", "coordinator", "lag_events", "running", "compensating", "failed", "past_deadline", "completed", "compensated"],
                status.sagas.map {
                    [$0.saga, Self.running($0.coordinator), $0.coordinator.lagEvents, $0.running, $0.compensating, $0.failed, $0.pastDeadline,
                     $0.completed, $0.compensated]
                })
        section("kv stores", ["store", "version", "keys", "bytes", "built_at", "age"], status.kvStores.map {
            [$0.store, $0.version ?? ($0.problem == nil ? "none yet" : "unreadable"), $0.keys, $0.bytes, $0.builtAt, $0.ageMs.map(StatusCheck.duration)]
        })
        section("schedules", ["entry", "expression", "next_at", "last_fire_time", "last_outcome"], status.schedules.map {
            [$0.entry, $0.expression, $0.nextFireAt, $0.lastFireTime, $0.lastOutcome ?? "never run"]
        })
        if let tickets = status.tickets {
            console.print()
            console.print("tickets: \(tickets.open) open, \(tickets.newThisHour) opened this hour, \(tickets.exceptionsThisHour) exceptions this hour")
        }
        section("verifications", ["target", "checked_at", "damaged", "first_damage"], status.verifications.map {
            [$0.target, $0.checkedAt, $0.damaged, $0.firstDamage]
        })
        console.print()
        if status.problems.isEmpty {
            console.print("problems: none")
        } else {
            console.print("problems (\(status.problems.count)):")
            status.problems.forEach { console.print("  \($0)") }
        }
    }

    private func runners(_ title: String, _ runners: [HomeStatus.RunnerStatus], pipelines: Bool) {
        var columns = ["name", "state", "process", "records", "lag_events", "lag", "last_commit_at", "dead_letters"]
        if pipelines { columns += ["late_events", "watermark_time"] }
        section(title, columns, runners.map { runner in
            var row: [(any DatabaseValueConvertible)?] = [runner.name, runner.state, Self.running(runner), runner.records, runner.lagEvents,
                                                          StatusCheck.duration(runner.lagMs), runner.lastCommitAt, runner.deadLetters]
            if pipelines { row += [runner.lateEvents, runner.watermark] }
            return row
        })
    }

    private static func running(_ runner: HomeStatus.RunnerStatus) -> String {
        runner.runningPid.map { "pid \($0)" } ?? "stopped"
    }

    /// A titled table; nothing when there are no rows.
    private func section(_ title: String, _ columns: [String], _ rows: [[(any DatabaseValueConvertible)?]]) {
        guard !rows.isEmpty else { return }
        console.print()
        console.print(title + ":")
        var printer = RowPrinter(format: .table, console: console, maximumCellWidth: 60)
        printer.countsRows = false
        printer.print(columns: columns, rows: rows.map { $0.map { $0?.databaseValue ?? .null } })
    }
}
