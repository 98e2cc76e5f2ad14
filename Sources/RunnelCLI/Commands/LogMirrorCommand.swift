import ArgumentParser
import Foundation
import Logging
import Runnel
import ServiceLifecycle

/// `runnel log mirror --to kafka --bootstrap-servers HOST:PORT [--follow] [--topics a,b]`.
struct LogMirrorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirror",
        abstract: "Copy the log into a Kafka cluster, record for record, and keep it copied.",
        discussion: """
            Each partition of each topic goes into the same partition of a Kafka topic of the same \
            name and partition count (created if missing; a topic with another count, or holding \
            records the mirror did not write, is refused). Records keep their key, value, headers \
            and timestamp. How far each partition is copied is stored in runnel_log_mirrors \
            (app.sqlite) once the cluster acknowledged the records, so a restart after a crash \
            neither skips nor doubles: records an interrupted run delivered are read back, matched \
            against the log and skipped. Without --follow, copies to the log's current end and \
            exits; with --follow, keeps copying as the relay appends until SIGTERM or SIGINT, \
            retrying while the cluster is down (1 s doubling to 30 s). The way onto Kafka for a \
            running installation: mirror, point the pipelines at Kafka (`run --from kafka`), then \
            relay straight into it (`relay --to kafka`).
            """)

    @Option(help: "Where to copy the log: kafka (the only destination).") var to: LogPlace = .kafka
    @OptionGroup var kafka: KafkaOptions
    @Option(help: ArgumentHelp("Only these topics (comma-separated); default every topic, including ones that appear later.", valueName: "topics"))
    var topics: String?
    @Flag(help: "Keep copying as the log grows, until SIGTERM or SIGINT.") var follow = false
    @OptionGroup var home: HomeOptions

    func validate() throws {
        guard to == .kafka else { throw ValidationError("log mirror copies into Kafka: --to kafka") }
        _ = try kafka.settings(for: "log mirror")
        if let topics, topics.split(separator: ",").isEmpty { throw ValidationError("--topics names no topic") }
    }

    func run() async throws {
        let console = CLIContext.current.console
        let settings = try kafka.settings(for: "log mirror")
        let connector = try KafkaOptions.connector()
        let store = try Store.open(home.resolved)
        // One mirror per home: two would both copy the same records.
        let lock = try RunnerLock.acquire(.mirror, named: "kafka", in: store.home)
        let logger = Logger(label: "runnel.mirror")
        let chosen = topics.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        let summary: LogMirrorSummary
        if follow {
            let service = MirrorFollower(connector: connector, store: store, settings: settings, topics: chosen, logger: logger)
            let group = ServiceGroup(configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            summary = service.summary.value
        } else {
            summary = try await connector.mirror(store: store, settings: settings, topics: chosen, follow: false, logger: logger)
        }
        withExtendedLifetime(lock) {}
        var line = "Mirrored \(summary.records) records into Kafka at \(settings.bootstrapServers)"
        if summary.alreadyMirrored > 0 { line += "; \(summary.alreadyMirrored) were already there from an interrupted run" }
        if summary.lostToRetention > 0 { line += "; \(summary.lostToRetention) had been deleted by retention before the mirror read them" }
        console.print(line + ".")
    }
}

/// The mirror as a service, keeping what it did for the final line.
private struct MirrorFollower: Service {
    let connector: any KafkaConnector
    let store: Store
    let settings: KafkaSettings
    let topics: [String]?
    let logger: Logger
    let summary = Box()

    final class Box: @unchecked Sendable {
        // @unchecked: `stored` is only touched holding `lock`.
        private let lock = NSLock()
        private var stored = LogMirrorSummary()
        var value: LogMirrorSummary {
            get { lock.withLock { stored } }
            set { lock.withLock { stored = newValue } }
        }
    }

    func run() async throws {
        summary.value = try await connector.mirror(store: store, settings: settings, topics: topics, follow: true, logger: logger)
    }
}
