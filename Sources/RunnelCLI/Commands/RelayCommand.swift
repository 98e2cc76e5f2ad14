import ArgumentParser
import Foundation
import Logging
import Runnel
import ServiceLifecycle

/// `runnel relay [--follow] [--to kafka --bootstrap-servers HOST:PORT]`.
struct RelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Publish outbox rows (app and derived) into the log or a Kafka cluster, exactly once.",
        discussion: """
            Without --follow, drains both outboxes and exits. With --follow, keeps relaying new \
            commits within milliseconds until SIGTERM or SIGINT, then finishes the batch in hand \
            and exits 0. Rows that can never be relayed go to runnel_outbox_dead_letters. \
            After a crash, rows an interrupted run already appended are skipped, matched by \
            outbox id and the identity of the database file (header outbox-database), so the \
            events of a rebuilt derived.sqlite are never taken for an earlier file's. A file \
            restored from a backup (its outbox hands out ids the log already holds) is refused; \
            --new-identity FILE gives it a new identity, so every pending row is relayed. \
            With --to kafka, the same records go into a Kafka cluster instead, into the same \
            partitions (topics are created with the log's partition count, or --partitions for a \
            topic the log does not have; a topic with another count is refused). Rows leave the \
            outbox only once the cluster acknowledged their records, and a new run first reads the \
            tail of each partition and skips the rows already there. While the cluster is down the \
            rows wait in the outbox; with --follow the relay retries, 1 s doubling to 30 s, logging \
            the backlog.
            """)

    @Flag(help: "Keep running and relay new commits as they happen.") var follow = false
    @Option(help: "Where to relay: the home's log, or kafka (with --bootstrap-servers).") var to: LogPlace = .log
    @OptionGroup var kafka: KafkaOptions
    @Option(help: "Rows read per database per cycle.") var batchSize = 5_000
    @Option(help: "Partitions of topics created on first use.") var partitions = 1
    @Option(help: ArgumentHelp("fsync the log at most every N ms instead of after every batch (faster; a power cut can lose the last N ms of relayed rows).",
                               valueName: "ms"))
    var fsyncIntervalMs: Int?
    @Option(help: ArgumentHelp("Give app.sqlite or derived.sqlite a new identity first: for a file restored from a backup, whose pending rows would otherwise be taken for rows already in the log.",
                               valueName: "file"))
    var newIdentity: String?
    @OptionGroup var home: HomeOptions

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard (1...1024).contains(partitions) else { throw ValidationError("--partitions must be 1 to 1024") }
        if let fsyncIntervalMs, fsyncIntervalMs <= 0 { throw ValidationError("--fsync-interval-ms must be positive") }
        switch to {
        case .log: try kafka.refuseUnused("--to kafka")
        case .kafka:
            _ = try kafka.settings(for: "--to kafka")
            if fsyncIntervalMs != nil { throw ValidationError("--fsync-interval-ms is for the log; Kafka's durability is its acknowledgement") }
        }
        if let newIdentity, renewedRole(newIdentity) == nil {
            throw ValidationError("--new-identity takes app.sqlite or derived.sqlite, not \(newIdentity)")
        }
    }

    private func renewedRole(_ name: String) -> DatabaseRole? {
        DatabaseRole.allCases.first { $0.fileName == name || $0.rawValue == name }
    }

    func run() async throws {
        let console = CLIContext.current.console
        let store = try Store.open(home.resolved)
        if let newIdentity, let role = renewedRole(newIdentity) {
            let database = store.database(role)
            let renewed = try RunnelError.naming(database.path, "giving \(role.fileName) a new identity") {
                try database.write(DatabaseIdentity.renew)
            }
            console.print("\(role.fileName) has the new identity \(renewed.id): every pending row of it will be relayed.")
        }
        if to == .kafka {
            try await relayIntoKafka(store, console: console)
            return
        }
        guard follow else {
            try Self.drain(store, batchSize: batchSize, partitions: partitions, durability: durability, console: console)
            return
        }
        let (log, relay) = try Self.open(store, batchSize: batchSize, partitions: partitions, durability: durability, console: console)
        let logger = Logger(label: "runnel.relay")
        let group = ServiceGroup(configuration: .init(
            services: [RelayService(relay: relay, logger: logger)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        try log.close()
    }

    private func relayIntoKafka(_ store: Store, console: Console) async throws {
        let settings = try kafka.settings(for: "--to kafka")
        let logger = Logger(label: "runnel.relay")
        let connector = try KafkaOptions.connector()
        let configuration = OutboxRelay.Configuration(batchSize: batchSize, topicDefaults: TopicConfiguration(partitions: partitions))
        guard follow else {
            let relay = try connector.relay(store: store, settings: settings, configuration: configuration, logger: logger)
            let summary = try relay.drain()
            console.print("Relayed \(summary.relayed) rows into Kafka at \(settings.bootstrapServers)"
                + (summary.deadLettered > 0 ? "; \(summary.deadLettered) moved to runnel_outbox_dead_letters" : "")
                + (summary.skippedAsAlreadyInLog > 0 ? "; \(summary.skippedAsAlreadyInLog) were already there from an interrupted run" : "")
                + ".")
            return
        }
        let follower = KafkaRelayFollower(make: { try connector.relay(store: store, settings: settings, configuration: configuration, logger: logger) },
                                          store: store, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [follower], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// Opens the log for writing (reporting any torn tail it cut) and a relay over it.
    private var durability: Log.Durability {
        fsyncIntervalMs.map { .interval(milliseconds: $0) } ?? .everyBatch
    }

    static func open(_ store: Store, batchSize: Int, partitions: Int, durability: Log.Durability = .everyBatch,
                     console: Console) throws -> (Log, OutboxRelay) {
        let log = try Log.open(store.home.logURL, durability: durability)
        for report in log.recoveryReports where report.needsAttention {
            console.note("warning: \(report)")
        }
        let relay = try OutboxRelay(store: store, log: log, configuration: .init(
            batchSize: batchSize, topicDefaults: TopicConfiguration(partitions: partitions)))
        return (log, relay)
    }

    /// Drains both outboxes and says what happened; shared with `demo`.
    static func drain(_ store: Store, batchSize: Int, partitions: Int, durability: Log.Durability = .everyBatch,
                      console: Console) throws {
        let (log, relay) = try open(store, batchSize: batchSize, partitions: partitions, durability: durability, console: console)
        let summary = try relay.drain()
        try log.close()
        console.print("Relayed \(summary.relayed) rows into the log"
            + (summary.deadLettered > 0 ? "; \(summary.deadLettered) moved to runnel_outbox_dead_letters" : "")
            + (summary.skippedAsAlreadyInLog > 0 ? "; \(summary.skippedAsAlreadyInLog) were already in the log from an interrupted run" : "")
            + ".")
    }
}

/// `relay --to kafka --follow`: a cluster that cannot be reached when the relay starts is
/// waited for (1 s doubling to 30 s, the backlog logged), as one that goes away later is.
private struct KafkaRelayFollower: Service {
    let make: @Sendable () throws -> OutboxRelay
    let store: Store
    let logger: Logger

    func run() async throws {
        // Making a relay reads the cluster's metadata and tails, blocking: off the shared pool.
        try await ServiceThread.run(named: "runnel.relay.start") { try await start() }
    }

    private func start() async throws {
        var retry = RetryDelay()
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let relay: OutboxRelay
            do {
                relay = try make()
            } catch let error as RunnelError where error.code == .kafka {
                let pending = try OutboxRelay.backlog(of: store).rows
                logger.warning("relay cannot start: the cluster does not answer; its rows stay in the outbox and it retries", metadata: [
                    "error": "\(error)", "relay.retry_in": "\(retry.current)", "relay.backlog.rows": "\(pending)",
                ])
                await retry.wait()
                continue
            }
            try await RelayService(relay: relay, retriesUnreachableDestination: true, logger: logger).run()
            return
        }
    }
}
