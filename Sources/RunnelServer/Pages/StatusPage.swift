import Foundation
import Runnel

/// `/`: the facts of `runnel status`, with the problems `--check` would report first and the
/// rows they concern highlighted.
enum StatusPage {
    static func context(_ status: HomeStatus, home: RunnelHome) -> [String: Any] {
        let subjects = Set(status.problems.map(\.subject))
        func runner(_ kind: String, _ runner: HomeStatus.RunnerStatus) -> [String: Any] {
            [
                "name": runner.name, "kind": kind, "state": runner.state, "pid": runner.runningPid.map(String.init) ?? "",
                "records": runner.records, "lag_events": runner.lagEvents, "lag": PageContext.duration(ms: runner.lagMs),
                "watermark": PageContext.time(ms: runner.watermark), "last_commit": PageContext.time(ms: runner.lastCommitAt),
                "dead_letters": runner.deadLetters, "late_events": runner.lateEvents,
                "problem": subjects.contains("\(kind) \(runner.name)"),
            ]
        }
        var context = PageContext.base(title: "Status", nav: "status", api: "/api/status", home: home,
                                       now: Date(millisecondsSince1970: status.readAt))
        context["problems"] = status.problems.map { ["subject": $0.subject, "message": $0.message] }
        context["has_problems"] = !status.problems.isEmpty
        context["problem_count"] = status.problems.count
        context["relay_pid"] = status.relayPid.map(String.init) ?? "not running"
        context["databases"] = status.databases.map { database -> [String: Any] in
            ["database": database.database, "backlog": database.outboxBacklog, "oldest": PageContext.duration(ms: database.oldestPendingMs),
             "dead_letters": database.outboxDeadLetters, "problem": subjects.contains("outbox \(database.database)")]
        }
        context["topics"] = status.topics.map { topic -> [String: Any] in
            ["name": topic.name, "records": topic.records, "bytes": PageContext.bytes(topic.bytes),
             "end_offsets": topic.endOffsets.map(String.init).joined(separator: " "), "newest": PageContext.time(ms: topic.newestTimestamp)]
        }
        context["runners"] = status.pipelines.map { runner("pipeline", $0) } + status.handlers.map { runner("handler", $0) }
            + status.sagas.map { runner("saga coordinator", $0.coordinator) }
        context["sagas"] = status.sagas.map { saga -> [String: Any] in
            ["saga": saga.saga, "href": PageContext.link("/sagas", [("saga", saga.saga)]), "running": saga.running, "compensating": saga.compensating, "completed": saga.completed,
             "compensated": saga.compensated, "failed": saga.failed, "past_deadline": saga.pastDeadline,
             "problem": subjects.contains("saga \(saga.saga)")]
        }
        context["kv_stores"] = status.kvStores.map { store -> [String: Any] in
            ["store": store.store, "version": store.version.map(String.init) ?? "none", "keys": store.keys.map(String.init) ?? "",
             "bytes": PageContext.bytes(store.bytes.map(Int64.init)), "age": PageContext.duration(ms: store.ageMs),
             "problem_text": store.problem ?? "", "problem": store.problem != nil || subjects.contains("kv/\(store.store)")]
        }
        context["schedules"] = status.schedules.map { schedule -> [String: Any] in
            ["entry": schedule.entry, "expression": schedule.expression, "next": PageContext.time(ms: schedule.nextFireAt),
             "last": PageContext.time(ms: schedule.lastFireTime), "outcome": schedule.lastOutcome ?? "",
             "reason": schedule.lastReason ?? "", "problem": schedule.lastOutcome == "failed"]
        }
        if let tickets = status.tickets {
            context["tickets"] = ["open": tickets.open, "new": tickets.newThisHour, "exceptions": tickets.exceptionsThisHour] as [String: Any]
        }
        context["verifications"] = status.verifications.map { verification -> [String: Any] in
            ["target": verification.target, "checked": PageContext.time(ms: verification.checkedAt), "damaged": verification.damaged,
             "first_damage": verification.firstDamage ?? "", "problem": verification.damaged > 0]
        }
        return context
    }
}
