import Foundation
import GRDB
@testable import Runnel
import RunnelCLI
import RunnelKafka
import RunnelTesting
import Testing

/// The Kafka options of the `runnel` command line, run as a user runs them.
@Suite struct KafkaCommandTests {
    /// Runs `runnel` to its end: exit status, standard output, standard error.
    static func runnel(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let output = Pipe(), error = Pipe()
        let process = try ChildProcess.launch(arguments, standardOutput: output, standardError: error)
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, out, err)
    }

    @Test func kafkaOptionsAreRefusedWhereTheyWouldBeIgnoredOrAreMissing() throws {
        let noServers = try Self.runnel(["relay", "--to", "kafka"])
        #expect(noServers.status == 64 && noServers.error.contains("--to kafka needs --bootstrap-servers HOST:PORT"), "\(noServers)")
        let unused = try Self.runnel(["relay", "--bootstrap-servers", "localhost:9092"])
        #expect(unused.status == 64 && unused.error.contains("go with --to kafka"), "\(unused)")
        let noPort = try Self.runnel(["run", "member-sessions", "--from", "kafka", "--bootstrap-servers", "localhost"])
        #expect(noPort.status == 64 && noPort.error.contains("has no port"), "\(noPort)")
        let badPartitions = try Self.runnel(["run", "member-sessions", "--partitions", "3-1"])
        #expect(badPartitions.status == 64 && badPartitions.error.contains("Write them as 0-3"), "\(badPartitions)")
    }

    /// A share of partitions has one spelling, since it is part of a pipeline's recorded source.
    @Test func partitionSelectionsAreSpelledOneWay() throws {
        #expect(try PartitionSelection(parsing: "1,0").description == "0-1")
        #expect(try PartitionSelection(parsing: "4-5,0,2-3").description == "0,2-5")
        #expect(try PartitionSelection(parsing: "0-3,1-2").description == "0-3")
        #expect(throws: RunnelError.self) { try PartitionSelection(parsing: "0,,1") }
        #expect(throws: RunnelError.self) { try PartitionSelection(parsing: "-1") }
        let selection = try PartitionSelection(parsing: "2-9")
        #expect(try selection.select(from: 4, of: "t", in: "here") == [2, 3])
        #expect(throws: RunnelError.self) { try PartitionSelection(parsing: "4-5").select(from: 4, of: "t", in: "here") }
    }

    @Test func relayIntoKafkaThenRunPipelinesOnHalfThePartitions() throws {
        let cluster = try MockCluster()
        let temporary = try TemporaryHome(label: "kafka-cli")
        let home = temporary.home.url.path
        #expect(try Self.runnel(["migrate", "--home", home]).status == 0)
        #expect(try Self.runnel(["sample", "load", "--home", home]).status == 0)
        // The mock makes any topic a client asks about with 4 partitions: relay with as many.
        let relay = try Self.runnel(["relay", "--to", "kafka", "--bootstrap-servers", cluster.bootstrapServers, "--kafka-property", MockCluster.quickFetch, "--partitions", "4", "--home", home])
        #expect(relay.status == 0 && relay.output.contains("Relayed 2583 rows into Kafka at \(cluster.bootstrapServers)"), "\(relay)")
        let again = try Self.runnel(["relay", "--to", "kafka", "--bootstrap-servers", cluster.bootstrapServers, "--kafka-property", MockCluster.quickFetch, "--partitions", "4", "--home", home])
        #expect(again.status == 0 && again.output.contains("Relayed 0 rows"), "\(again)")

        let run = try Self.runnel(["run", "member-sessions", "--from", "kafka", "--partitions", "0-1", "--bootstrap-servers", cluster.bootstrapServers, "--kafka-property", MockCluster.quickFetch, "--home", home])
        #expect(run.status == 0 && run.output.contains("member-sessions v1:"), "\(run)")
        // Handlers read every partition: a split for one is refused, not ignored.
        let handler = try Self.runnel(["run", "email", "--partitions", "0-1", "--from", "kafka", "--bootstrap-servers", cluster.bootstrapServers, "--kafka-property", MockCluster.quickFetch, "--home", home])
        #expect(handler.status == 64 && handler.error.contains("applies to pipelines only"), "\(handler)")
        // The pipeline's state came from Kafka: going on from the file log is refused.
        let fromLog = try Self.runnel(["run", "member-sessions", "--home", home])
        #expect(fromLog.status == 1 && fromLog.error.contains("read its views and state in derived.sqlite from kafka:"), "\(fromLog)")
        // One relay per home, whatever its destination.
        let follower = try ChildProcess.launch(["relay", "--to", "kafka", "--follow", "--bootstrap-servers", cluster.bootstrapServers, "--kafka-property", MockCluster.quickFetch, "--partitions", "4",
                                                "--home", home])
        defer { if follower.isRunning { kill(follower.processIdentifier, SIGKILL) } }
        let lock = RunnerLock.url(.relay, named: "outbox", in: temporary.home)
        let deadline = Date().addingTimeInterval(30)
        while RunnerLock.holder(of: lock) != follower.processIdentifier, Date() < deadline { usleep(50_000) }
        let second = try Self.runnel(["relay", "--home", home])
        #expect(second.status == 1 && second.error.contains("relay outbox") && second.error.contains("pid \(follower.processIdentifier)"), "\(second)")
        kill(follower.processIdentifier, SIGTERM)
        follower.waitUntilExit()
        #expect(follower.terminationStatus == 0)
    }

    @Test func exportWritesTheSegmentsInKafkasFolderLayout() throws {
        let temporary = try TemporaryHome(label: "kafka-export")
        let home = temporary.home.url.path
        #expect(try Self.runnel(["migrate", "--home", home]).status == 0)
        #expect(try Self.runnel(["sample", "load", "--home", home]).status == 0)
        #expect(try Self.runnel(["relay", "--partitions", "2", "--home", home]).status == 0)
        let target = temporary.folder.appendingPathComponent("as-kafka")
        let export = try Self.runnel(["log", "export", "--kafka-layout", target.path, "--home", home])
        #expect(export.status == 0 && export.output.contains("Exported "), "\(export)")
        let log = try Log.openForReading(temporary.home.logURL)
        var compared = 0
        for name in log.topicNames {
            for partition in 0..<2 {
                let source = temporary.home.logURL.appendingPathComponent(name).appendingPathComponent(String(partition))
                let copy = target.appendingPathComponent("\(name)-\(partition)")
                let files = try FileManager.default.contentsOfDirectory(atPath: source.path).filter { $0.hasSuffix(".log") || $0.hasSuffix("index") }
                #expect(files.contains("00000000000000000000.log"))
                for file in files {
                    #expect(FileManager.default.contentsEqual(atPath: source.appendingPathComponent(file).path, andPath: copy.appendingPathComponent(file).path),
                            "\(name)-\(partition)/\(file) differs from the log's")
                    compared += 1
                }
            }
        }
        #expect(compared >= log.topicNames.count * 2 * 3)
        // Nothing is overwritten.
        let again = try Self.runnel(["log", "export", "--kafka-layout", target.path, "--home", home])
        #expect(again.status == 1 && again.error.contains("is not empty"), "\(again)")
    }

    /// A cluster that does not answer when `relay --to kafka --follow` starts is waited for,
    /// the rows staying in the outbox; once it answers, every row arrives once.
    @Test func aFollowingRelayWaitsForAClusterThatIsDownWhenItStarts() throws {
        let cluster = try MockCluster()
        for topic in ["notes", "derived-notes"] { try cluster.createTopic(topic, partitions: 3) }
        let temporary = try TemporaryHome(label: "kafka-relay-waits")
        let store = try temporary.openStore()
        try appendNotes(store, count: 120)
        let committed = try pendingRows(store)
        for broker in 1...3 { try cluster.command("down \(broker)") }
        let relay = try CrashChild(["relay", "--to", "kafka", "--follow", "--kafka-timeout", "2", "--partitions", "3",
                                    "--bootstrap-servers", cluster.bootstrapServers, "--kafka-property", MockCluster.quickFetch, "--home", temporary.home.url.path],
                                   environment: ["RUNNEL_LOG_LEVEL": "warning"])
        defer { if relay.process.isRunning { relay.kill() } }
        #expect(relay.waitForLine("relay cannot start: the cluster does not answer", timeout: 30), "\(relay.standardError.suffix(600))")
        #expect(relay.process.isRunning)
        #expect(try pendingRows(store).count == 120)
        for broker in 1...3 { try cluster.command("up \(broker)") }
        let deadline = Date().addingTimeInterval(60)
        while try !pendingRows(store).isEmpty, Date() < deadline { usleep(100_000) }
        #expect(try pendingRows(store).isEmpty, "the relay did not go on once the cluster answered: \(relay.standardError.suffix(600))")
        relay.kill(SIGTERM)
        #expect(relay.process.terminationStatus == 0, "\(relay.standardError.suffix(400))")
        try expectExactlyOnce(committed, in: cluster, partitions: 3)
    }

    /// A pipeline following a cluster that is down when it starts waits for it, then reads.
    @Test func aFollowingPipelineWaitsForAClusterThatIsDownWhenItStarts() throws {
        let cluster = try MockCluster()
        let temporary = try TemporaryHome(label: "kafka-run-waits")
        let home = temporary.home.url.path
        #expect(try Self.runnel(["migrate", "--home", home]).status == 0)
        #expect(try Self.runnel(["sample", "load", "--home", home]).status == 0)
        #expect(try Self.runnel(["relay", "--to", "kafka", "--bootstrap-servers", cluster.bootstrapServers, "--partitions", "4", "--home", home]).status == 0)
        for broker in 1...3 { try cluster.command("down \(broker)") }
        let run = try CrashChild(["run", "member-sessions", "--follow", "--from", "kafka", "--kafka-timeout", "2", "--bootstrap-servers", cluster.bootstrapServers,
                                  "--kafka-property", MockCluster.quickFetch, "--home", home], environment: ["RUNNEL_LOG_LEVEL": "warning"])
        defer { if run.process.isRunning { run.kill() } }
        #expect(run.waitForLine("cannot reach the source yet", timeout: 30), "\(run.standardError.suffix(600))")
        #expect(run.process.isRunning)
        for broker in 1...3 { try cluster.command("up \(broker)") }
        var configuration = GRDB.Configuration()
        configuration.readonly = true
        let derived = try DatabaseQueue(path: temporary.home.databaseURL(.derived).path, configuration: configuration)
        let deadline = Date().addingTimeInterval(60)
        var sessions = 0
        while sessions == 0, Date() < deadline {
            usleep(200_000)
            sessions = (try? derived.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM member_sessions") ?? 0 }) ?? 0
        }
        #expect(sessions > 0, "the pipeline read nothing once the cluster answered: \(run.standardError.suffix(600))")
        run.kill(SIGTERM)
        #expect(run.process.terminationStatus == 0, "\(run.standardError.suffix(400))")
    }

    /// An application's catalog names its cluster: its command line needs no --bootstrap-servers.
    @Test func theCatalogsKafkaSettingsServeWhenNoServersAreGiven() async throws {
        let cluster = try MockCluster()
        for topic in ["notes", "derived-notes"] { try cluster.createTopic(topic, partitions: 3) }
        let temporary = try TemporaryHome(label: "kafka-catalog")
        let store = try temporary.openStore()
        try appendNotes(store, count: 40)
        var catalog = Catalog(name: "notes")
        catalog.kafka = cluster.settings()
        let output = OutputCapture()
        let status = await RunnelCommand.run(["relay", "--to", "kafka", "--partitions", "3", "--home", temporary.home.url.path],
                                             catalog: catalog, console: output.console, kafka: LibrdkafkaConnector())
        #expect(status == 0 && output.text.contains("Relayed 40 rows into Kafka at \(cluster.bootstrapServers)"), "\(output.text)")
        // Without Kafka in the build, the option is refused with what to do.
        let without = OutputCapture()
        let refused = await RunnelCommand.run(["relay", "--to", "kafka", "--home", temporary.home.url.path], catalog: catalog, console: without.console)
        #expect(refused == 1 && without.text.contains("has no Kafka client") && without.text.contains("LibrdkafkaConnector"), "\(without.text)")
    }
}

/// Collects what a command prints, both streams.
final class OutputCapture: @unchecked Sendable {
    // @unchecked: `lines` is only touched holding `lock`.
    private let lock = NSLock()
    private var lines = ""

    var console: Console {
        Console(output: { [self] text in lock.withLock { lines += text } }, error: { [self] text in lock.withLock { lines += text } })
    }

    var text: String { lock.withLock { lines } }
}
