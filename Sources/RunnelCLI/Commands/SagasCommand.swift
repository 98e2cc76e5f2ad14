import ArgumentParser
import Foundation
import GRDB
import Runnel

/// `runnel sagas`: the catalog's sagas and handlers, as defined, with how many instances each
/// saga has in each state and how far each handler has read.
struct SagasCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        let program = CLIContext.current.programName
        return CommandConfiguration(
            commandName: "sagas",
            abstract: "List the catalog's sagas (start, steps, compensations, instances by state) and handlers.",
            discussion: """
                Per saga: the event that starts an instance (topic · type), the topic its participants \
                reply to, and each step as it runs — the command and where it goes, the replies that \
                complete or fail it, how long it waits and how often it tries, and the compensation that \
                undoes it. Instance counts come from runnel_sagas in app.sqlite; `\(program) saga list` \
                lists the instances and `\(program) saga show ID` tells one's story. Per handler: the \
                topics it reads, the event types it takes, and the records waiting for it (its \
                runnel_consumer_offsets against the log's end). Nothing is locked or written.
                """)
    }

    @OptionGroup var home: HomeOptions

    func run() throws {
        let context = CLIContext.current
        let catalog = context.catalog
        let console = context.console
        guard !catalog.sagas.isEmpty || !catalog.handlers.isEmpty else {
            console.print("The \(catalog.name) catalog has no sagas and no handlers.")
            return
        }
        let home = home.resolved
        // Listing never creates a home: a fresh one just has no instances yet.
        let app: DatabaseQueue? = home.isInitialized ? try Store.openReadOnly(home, .app) : nil
        let hasTables = try app?.read { try $0.tableExists("runnel_sagas") } ?? false
        var log: Log?
        if hasTables, FileManager.default.fileExists(atPath: home.logURL.path) {
            do {
                log = try Log.openForReading(home.logURL)
            } catch {
                console.note("warning: cannot read the log, so the handlers' backlogs are not shown: \(error)")
            }
        }
        defer { try? log?.close() }

        for (index, saga) in catalog.sagas.enumerated() {
            if index > 0 { console.print() }
            console.print("saga \(saga.name): started by \(saga.startTopic) · \(saga.startType); replies to \(saga.replyTopic)")
            if let app, hasTables {
                let counts = try app.read { try SagaRecords.counts(of: saga.name, in: $0) }
                console.print("  instances: " + SagaState.allCases.map { "\(counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", "))
            } else {
                console.print("  instances: none yet (no app.sqlite in \(home.url.path))")
            }
            for (number, step) in saga.stepSummaries.enumerated() {
                console.print("  " + Self.describe(step, number: number + 1))
                if let compensation = Self.describeCompensation(step) { console.print("      " + compensation) }
            }
        }
        guard !catalog.handlers.isEmpty else { return }
        if !catalog.sagas.isEmpty { console.print() }
        console.print("handlers:")
        var rows: [[DatabaseValue]] = []
        for handler in catalog.handlers {
            let backlog = try log.flatMap { log in try app.map { try Self.backlog(of: handler, in: $0, log: log) } }
            rows.append([handler.name.databaseValue, handler.topics.joined(separator: ", ").databaseValue,
                         handler.eventTypes.joined(separator: ", ").databaseValue, backlog.databaseValue])
        }
        RowPrinter(format: .table, console: console, maximumCellWidth: 80).print(columns: ["name", "reads", "takes", "backlog"], rows: rows)
    }

    /// `1 flight: BookFlight → flight-commands; completed by FlightBooked; fails on FlightFull; timeout 30s × 3 attempts`.
    static func describe(_ step: SagaStepSummary, number: Int) -> String {
        var text = "\(number) \(step.name): \(step.commandType) → \(step.commandTopic); completed by \(step.completedBy.joined(separator: " or "))"
        if !step.failedBy.isEmpty { text += "; fails on \(step.failedBy.joined(separator: " or "))" }
        text += "; timeout \(duration(step.timeout)) × \(RunCommand.counted(step.retry.attempts, "attempt"))"
        return text
    }

    /// `compensation CancelFlight → flight-commands; completed by FlightCancelled; refused by CancelRefused`.
    static func describeCompensation(_ step: SagaStepSummary) -> String? {
        guard let type = step.compensationType, let topic = step.compensationTopic else { return nil }
        var text = "compensation \(type) → \(topic); "
        text += step.compensatedBy.isEmpty ? "done once sent" : "completed by \(step.compensatedBy.joined(separator: " or "))"
        if !step.compensationFailedBy.isEmpty { text += "; refused by \(step.compensationFailedBy.joined(separator: " or "))" }
        return text
    }

    /// `30s`, `1.5s`, `2m`, `250ms`.
    static func duration(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        if milliseconds % 60_000 == 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(Double(milliseconds) / 1000)s"
    }

    /// Records between a handler's committed offsets and the log's end.
    private static func backlog(of handler: Handler, in app: DatabaseQueue, log: Log) throws -> Int64 {
        let offsets = try app.read { db in
            try Row.fetchAll(db, sql: "SELECT topic, partition, next_offset FROM runnel_consumer_offsets WHERE consumer = ?",
                             arguments: [HandlerRunner.consumerName(handler.name)])
                .reduce(into: [String: Int64]()) { $0["\($1["topic"] as String)/\($1["partition"] as Int)"] = $1["next_offset"] }
        }
        var backlog: Int64 = 0
        for name in handler.topics {
            guard let topic = try log.topic(name) else { continue }
            for partition in topic.partitions {
                backlog += max(0, partition.endOffset - (offsets["\(name)/\(partition.partition)"] ?? 0))
            }
        }
        return backlog
    }
}
