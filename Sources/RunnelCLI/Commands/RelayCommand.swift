import ArgumentParser
import Foundation
import Logging
import Runnel
import ServiceLifecycle

/// `runnel relay [--follow]`.
struct RelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Publish outbox rows (app and derived) into the log, exactly once.",
        discussion: """
            Without --follow, drains both outboxes and exits. With --follow, keeps relaying new \
            commits within milliseconds until SIGTERM or SIGINT, then finishes the batch in hand \
            and exits 0. Rows that can never be relayed go to runnel_outbox_dead_letters.
            """)

    @Flag(help: "Keep running and relay new commits as they happen.") var follow = false
    @Option(help: "Rows read per database per cycle.") var batchSize = 2_000
    @Option(help: "Partitions of topics created on first use.") var partitions = 1
    @OptionGroup var home: HomeOptions

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard (1...1024).contains(partitions) else { throw ValidationError("--partitions must be 1 to 1024") }
    }

    func run() async throws {
        let console = CLIContext.current.console
        let store = try Store.open(home.resolved)
        let log = try Log.open(store.home.logURL)
        for report in log.recoveryReports where report.truncatedBytes > 0 {
            console.note("warning: \(report)")
        }
        let relay = try OutboxRelay(store: store, log: log, configuration: .init(
            batchSize: batchSize, topicDefaults: TopicConfiguration(partitions: partitions)))
        if follow {
            let logger = Logger(label: "runnel.relay")
            let group = ServiceGroup(configuration: .init(
                services: [RelayService(relay: relay, logger: logger)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
            try await group.run()
        } else {
            let summary = try relay.drain()
            console.print("Relayed \(summary.relayed) rows into the log"
                + (summary.deadLettered > 0 ? "; \(summary.deadLettered) moved to runnel_outbox_dead_letters" : "")
                + (summary.skippedAsAlreadyInLog > 0 ? "; \(summary.skippedAsAlreadyInLog) were already in the log from an interrupted run" : "")
                + ".")
        }
        try log.close()
    }
}
