import Foundation
import GRDB
@testable import Runnel
@testable import RunnelKafka
import RunnelTesting
import Testing

/// `runnel log mirror --to kafka`: the file log copied into a cluster record for record, through
/// SIGKILLs between a delivery and the store of its position, and refusing a topic it did not
/// write alone.
@Suite struct KafkaMirrorTests {
    static let pause = (variable: "RUNNEL_FAULT_MIRROR_PAUSE_US", moment: "mirror-after-delivery-before-store")
    static let resumeLine = "records an interrupted mirror delivered were found in the cluster"

    /// Relays what the outboxes hold into the home's file log, 3 partitions per topic.
    static func relayIntoLog(_ store: Store) throws {
        let log = try Log.open(store.home.logURL)
        defer { try? log.close() }
        try OutboxRelay(store: store, log: log, configuration: .init(topicDefaults: TopicConfiguration(partitions: 3))).drain()
    }

    /// Every record of a topic in the file log, by partition.
    static func logRecords(_ home: RunnelHome, topic: String) throws -> [Int: [LogRecord]] {
        try MockCluster.records(in: .log(Log.openForReading(home.logURL)), of: topic)
    }

    /// The records without their offsets, which the cluster gives anew.
    static func contents(_ records: [LogRecord]?) -> [LogRecord] {
        (records ?? []).map { LogRecord(timestamp: $0.timestamp, key: $0.key, value: $0.value, headers: $0.headers) }
    }

    @Test func aMirrorKilledBetweenDeliveryAndItsPositionEqualsTheLogRecordForRecord() throws {
        let schedule = CrashSchedule(defaultSeed: 20_261_208, defaultRounds: 9)
        let (seed, rounds) = (schedule.seed, schedule.rounds)
        var random = schedule.random
        let cluster = try MockCluster()
        for topic in ["notes", "derived-notes"] { try cluster.createTopic(topic, partitions: 3) }
        let temporary = try TemporaryHome(label: "kafka-mirror")
        let store = try temporary.openStore()
        let home = temporary.home.url.path
        var written = 0
        var resumes = 0
        var interrupted: [String: Int] = [:]
        for round in 0..<rounds {
            // The log grows between rounds, as the relay makes it grow.
            let count = 100 + random.below(300)
            try appendNotes(store, count: count, from: written)
            try appendNotes(store, .derived, count: count / 5, from: written)
            written += count
            try Self.relayIntoLog(store)

            let aimed = round % 3 != 2
            var environment = ["RUNNEL_LOG_LEVEL": "notice"]
            if aimed { environment[Self.pause.variable] = "5000000" }
            let mirror = try CrashChild(["log", "mirror", "--to", "kafka", "--bootstrap-servers", cluster.bootstrapServers, "--kafka-property", MockCluster.quickFetch, "--follow", "--home", home],
                                        environment: environment)
            #expect(mirror.kill(at: aimed ? Self.pause.moment : nil, pauseMicroseconds: 200_000, orAfter: 100_000..<700_000, random: &random),
                    "seed \(seed) round \(round): the mirror never paused after a delivery: \(mirror.standardError.suffix(400))")
            #expect(mirror.diedOfSIGKILL, "seed \(seed) round \(round): the mirror ended with \(mirror.termination): \(mirror.standardError.suffix(400))")
            if aimed { #expect(mirror.interruptedPause == Self.pause.moment, "seed \(seed) round \(round): the kill missed the pause") }
            let phase = mirror.interruptedPause ?? "a moment outside the pause"
            interrupted[phase, default: 0] += 1
            resumes += mirror.count(Self.resumeLine)
            print("kafka mirror crash seed \(seed) round \(round): killed at \(phase); \(mirror.count(Self.resumeLine)) resume(s) past delivered records")
        }
        let (drain, summary) = try CrashChild.runToEnd(["log", "mirror", "--to", "kafka", "--bootstrap-servers", cluster.bootstrapServers,
                                                        "--kafka-property", MockCluster.quickFetch, "--home", home], environment: ["RUNNEL_LOG_LEVEL": "notice"])
        #expect(drain.process.terminationStatus == 0, "seed \(seed): \(drain.standardError.suffix(400))")
        resumes += drain.count(Self.resumeLine)
        print("kafka mirror crash seed \(seed): kills at \(interrupted.killTally); \(resumes) resumes past delivered records; final run: \(summary)")
        // The kills between a delivery and its stored position must have been met by a resume
        // that found the records in the cluster, or the rounds proved nothing about doubles.
        #expect(resumes > 0, "seed \(seed): no mirror resumed past records an interrupted one delivered")
        for topic in ["notes", "derived-notes"] {
            let log = try Self.logRecords(temporary.home, topic: topic)
            let kafka = try cluster.records(of: topic)
            #expect(log.values.reduce(0) { $0 + $1.count } > 0)
            for partition in 0..<3 {
                let expected = Self.contents(log[partition]), found = Self.contents(kafka[partition])
                #expect(found.count == expected.count, "seed \(seed): \(topic)/\(partition) has \(found.count) records in Kafka, \(expected.count) in the log")
                #expect(found == expected, "seed \(seed): \(topic)/\(partition) differs from the log")
            }
        }
    }

    @Test func aTopicHoldingRecordsTheMirrorDidNotWriteIsRefused() throws {
        let cluster = try MockCluster()
        try cluster.createTopic("notes", partitions: 3)
        let temporary = try TemporaryHome(label: "kafka-mirror-refused")
        let store = try temporary.openStore()
        try appendNotes(store, count: 30)
        // The same rows relayed straight into the cluster, then into the log.
        let other = try TemporaryHome(label: "kafka-mirror-other")
        let otherStore = try other.openStore()
        try appendNotes(otherStore, count: 5)
        try OutboxRelay(store: otherStore, kafka: cluster.settings(), configuration: .init(topicDefaults: TopicConfiguration(partitions: 3))).drain()
        try Self.relayIntoLog(store)
        let mirror = try LogMirror(store: store, settings: cluster.settings(), topics: nil, logger: .init(label: "test"))
        let failure = #expect(throws: RunnelError.self) { try mirror.drain() }
        #expect(failure?.code == .kafkaRefused, "\(String(describing: failure))")
        #expect(failure?.message.contains("that this home's mirror did not write") == true, "\(String(describing: failure))")
    }
}
