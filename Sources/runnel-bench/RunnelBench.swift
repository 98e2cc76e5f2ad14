import ArgumentParser
import Foundation
import Logging

/// `runnel-bench`: runs each scenario beside its baseline, in one process and one run, and prints
/// how Runnel compares with the figures in the README's "Benchmarks" section.
///
/// ```
/// swift run -c release runnel-bench [SCENARIO…] [--quick] [--format table|json]
/// ```
@main
struct RunnelBench: ParsableCommand {
    /// Every scenario, in the order they run; a new scenario is one line here.
    static let scenarios: [any Scenario] = [
        OutboxOverheadScenario(),
        LogAppendScenario.hundredBytes,
        LogAppendScenario.oneKiB,
        LogAppendScenario.hundredBytesNoFsync,
        LogReadScenario(),
        RelayScenario(),
        RelayLatencyScenario(),
        RelayWritersScenario(),
        WindowAggregateScenario(),
        MemoryFlatScenario(),
        NearlineLatencyScenario(),
        KVBuildScenario(),
        KVLookupScenario(),
        LogRecoveryScenario(),
        ScheduleNextScenario(),
        TicketsScenario(),
        SagaScenario(),
        DashboardScenario(),
        KafkaRelayScenario(),
    ]

    static let configuration = CommandConfiguration(
        commandName: "runnel-bench",
        abstract: "Side-by-side measurements of Runnel against baselines doing the same work without it.",
        discussion: """
            Scenarios:
            \(scenarios.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n"))

            A ratio above 1 means Runnel does better than the baseline; a scenario meets its goals \
            when the ratio is at least the goal and every absolute goal of the row (rows/s, p99 \
            limits, preconditions such as the target rate being reached) is met too.
            """)

    @Argument(help: "The scenarios to run (default: all).",
              completion: .list(RunnelBench.scenarios.map(\.name)))
    var scenarioNames: [String] = []

    @Flag(help: "Smaller runs that finish in under a minute; figures are noisier.")
    var quick = false

    @Option(help: "Output format.")
    var format: ReportFormat = .table

    func validate() throws {
        let known = Self.scenarios.map(\.name)
        if let unknown = scenarioNames.first(where: { !known.contains($0) }) {
            throw ValidationError("unknown scenario \"\(unknown)\"; known scenarios: \(known.joined(separator: ", "))")
        }
    }

    func run() throws {
        // The executable owns the logging backend: warnings and worse on standard error (level
        // from RUNNEL_LOG_LEVEL, as for `runnel`), so the migrations applied to each scenario's
        // temporary home do not interleave with the report.
        let level = ProcessInfo.processInfo.environment["RUNNEL_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let chosen = scenarioNames.isEmpty ? Self.scenarios : Self.scenarios.filter { scenarioNames.contains($0.name) }
        var report = Report(format: format)
        for scenario in chosen {
            report.starting(scenario, quick: quick)
            report.add(try ScenarioResult(scenario, try scenario.run(quick: quick)))
        }
        report.finish()
    }
}

extension ReportFormat: ExpressibleByArgument {}
