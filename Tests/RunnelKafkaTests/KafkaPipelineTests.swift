import Foundation
import GRDB
import Logging
@testable import Pipelines
@testable import Runnel
@testable import RunnelKafka
import RunnelTesting
import Testing

/// Pipelines reading Kafka partitions: the sample's pipelines over the cluster equal the same
/// pipelines over the file log, and split over two homes by partition (Samza's task per
/// partition, each with its own `derived.sqlite`) their views together equal one run's.
@Suite struct KafkaPipelineTests {
    /// The sample home: sample data relayed into the file log with 4 partitions per topic, and
    /// the log mirrored into the cluster.
    static func sampleHome(_ cluster: MockCluster) throws -> (TemporaryHome, Store) {
        let catalog = SampleCatalog.catalog
        let temporary = try TemporaryHome(label: "kafka-pipelines")
        let store = try temporary.openStore(migrations: catalog.migrations)
        _ = try SampleLoader(dataset: try #require(catalog.sampleData)).loadDefault(into: store)
        let log = try Log.open(store.home.logURL)
        try OutboxRelay(store: store, log: log, configuration: .init(topicDefaults: TopicConfiguration(partitions: 4))).drain()
        let topics = log.topicNames
        try log.close()
        for topic in topics { try cluster.createTopic(topic, partitions: 4) }
        let mirrored = try LogMirror(store: store, settings: cluster.settings(), topics: nil, logger: Logger(label: "test")).drain()
        #expect(mirrored.records > 1_000)
        return (temporary, store)
    }

    /// Runs every pipeline of the sample catalog to the end of a source, in a home.
    static func runAll(_ store: Store, source: () throws -> RecordSource?) throws {
        for pipeline in SampleCatalog.catalog.pipelines {
            let runner = try source().map { try PipelineRunner(pipeline: pipeline, store: store, source: $0) } ?? PipelineRunner(pipeline: pipeline, store: store)
            let summary = try runner.runToEnd()
            #expect(summary.deadLetters == 0, "\(pipeline.name): \(summary.deadLetters) dead letters")
        }
    }

    /// Each pipeline's read views: view name to its rows as sorted text.
    static func views(_ store: Store) throws -> [String: [String: [String]]] {
        try store.derived.read { db in
            var found: [String: [String: [String]]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT pipeline, view FROM runnel_view_owners") {
                let view: String = row["view"]
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(SQLIdentifier.quoted(view))").map { $0.description }.sorted()
                found[row["pipeline"], default: [:]][view] = rows
            }
            return found
        }
    }

    @Test func splitRunsOverKafkaPartitionsEqualOneRunAndTheFileLog() throws {
        let cluster = try MockCluster()
        let (sample, store) = try Self.sampleHome(cluster)
        _ = sample
        try Self.runAll(store) { nil }
        let overLog = try Self.views(store)

        func home(_ label: String, partitions: PartitionSelection?) throws -> (TemporaryHome, [String: [String: [String]]]) {
            let temporary = try TemporaryHome(label: label)
            let store = try temporary.openStore(migrations: SampleCatalog.catalog.migrations)
            // Each machine has the business tables its pipelines enrich from (members, here).
            _ = try SampleLoader(dataset: try #require(SampleCatalog.catalog.sampleData)).loadDefault(into: store)
            try Self.runAll(store) { try RecordSource.kafka(cluster.settings(), partitions: partitions) }
            return (temporary, try Self.views(store))
        }
        let (wholeHome, whole) = try home("kafka-whole", partitions: nil)
        let (firstHome, first) = try home("kafka-first", partitions: "0-1")
        let (secondHome, second) = try home("kafka-second", partitions: "2-3")
        _ = (wholeHome, firstHome, secondHome)

        #expect(Set(whole.keys) == Set(SampleCatalog.catalog.pipelines.map(\.name)).intersection(overLog.keys))
        for (pipeline, views) in overLog {
            for (view, rows) in views {
                #expect(!rows.isEmpty, "\(pipeline): view \(view) is empty over the log; the comparison proves nothing")
                // One run over the whole cluster equals the run over the file log.
                #expect(whole[pipeline]?[view] == rows, "\(pipeline): view \(view) over Kafka differs from over the log")
                // Two homes splitting the partitions hold, together, what one run holds, when the
                // pipeline groups by the records' key (see docs/scale-out.md).
                guard Self.groupsByRecordKey.contains(pipeline) else { continue }
                let together = ((first[pipeline]?[view] ?? []) + (second[pipeline]?[view] ?? [])).sorted()
                #expect(together == rows, "\(pipeline): view \(view) split over partitions 0-1 and 2-3 differs from one run (\(together.count) rows, \(rows.count) in one run)")
                #expect(!(first[pipeline]?[view] ?? []).isEmpty && !(second[pipeline]?[view] ?? []).isEmpty,
                        "\(pipeline): view \(view) has rows in one half only; the split proves nothing")
            }
        }
    }

    /// The sample's pipelines whose state is per record key, so a split by partition splits
    /// them cleanly. (`member-profiles` is not one: it counts connections, whose records are
    /// keyed by the connection, per member, so a member's count is spread over partitions.)
    static let groupsByRecordKey: Set<String> = ["member-engagement-5m", "member-sessions"]

    @Test func aPipelineReadFromTheLogIsRefusedOnKafkaUntilRebuilt() throws {
        let cluster = try MockCluster()
        let (sample, store) = try Self.sampleHome(cluster)
        _ = sample
        let pipeline = try #require(SampleCatalog.catalog.pipelines.first { $0.name == "member-profiles" })
        _ = try PipelineRunner(pipeline: pipeline, store: store).runToEnd()
        let failure = #expect(throws: RunnelError.self) {
            _ = try PipelineRunner(pipeline: pipeline, store: store, source: .kafka(cluster.settings()))
        }
        #expect(failure?.code == .pipeline)
        #expect(failure?.message.contains("read its views and state in derived.sqlite from log") == true, "\(String(describing: failure))")
        #expect(failure?.hint?.contains("--rebuild") == true)
        // Rebuilt, it goes on from the cluster, to the same views.
        let before = try Self.views(store)
        var options = PipelineRunner.Options()
        options.rebuild = true
        _ = try PipelineRunner(pipeline: pipeline, store: store, source: .kafka(cluster.settings()), options: options).runToEnd()
        #expect(try Self.views(store)["member-profiles"] == before["member-profiles"])
    }

    /// The sample's sagas with their handlers, every command and reply going through the
    /// cluster: the same outcomes as on the file log (`runnel demo`'s).
    @Test func sagasAndHandlersOverKafkaEndAsOnTheLog() throws {
        let cluster = try MockCluster()
        let catalog = SampleCatalog.catalog
        let temporary = try TemporaryHome(label: "kafka-sagas")
        let store = try temporary.openStore(migrations: catalog.migrations)
        _ = try SampleLoader(dataset: try #require(catalog.sampleData)).loadDefault(into: store)
        // The mock makes a topic any client asks about with 4 partitions: relay with as many.
        let relay = try OutboxRelay(store: store, kafka: cluster.settings(), configuration: .init(topicDefaults: TopicConfiguration(partitions: 4)))
        let drain = try SagaDrain(relay: relay, handlers: catalog.handlers, sagas: catalog.sagas) { try .kafka(cluster.settings()) }
        let done = try drain.run()
        #expect(done.rounds > 2)
        let states = try store.app.read { db in
            try Row.fetchAll(db, sql: "SELECT saga, state, count(*) AS n FROM runnel_sagas GROUP BY saga, state").map {
                "\($0["saga"] as String) \($0["state"] as String) \($0["n"] as Int)"
            }.sorted()
        }
        #expect(states == ["connection-invitation compensated 7", "connection-invitation completed 122",
                           "premium-upgrade compensated 2", "premium-upgrade completed 22"], "\(states)")
        // Nothing was read from the home's log: there is none.
        #expect(!FileManager.default.fileExists(atPath: store.home.logURL.appendingPathComponent("connections").path))
    }
}
