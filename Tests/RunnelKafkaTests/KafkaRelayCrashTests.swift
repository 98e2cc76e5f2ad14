import Foundation
import GRDB
@testable import Runnel
@testable import RunnelKafka
import RunnelTesting
import Testing

/// Exactly once into Kafka under real crashes: a child `runnel relay --to kafka --follow` is
/// SIGKILLed while writers keep committing to both outboxes. After a final drain every
/// committed row is in the cluster exactly once, each partition holding a database's rows in
/// commit order.
///
/// The rounds take turns aiming at the relay's two half-done moments (fault pauses): records
/// produced to some partitions and not yet acknowledged (`relay-between-partition-appends`),
/// and every record acknowledged but no row deleted (`relay-after-append-before-delete`);
/// every third round kills at a random moment. A restarted relay must be seen skipping rows
/// already in the cluster. `RUNNEL_CRASH_SEED=N` replays a run; `RUNNEL_CRASH_ROUNDS=N` runs more.
@Suite struct KafkaRelayCrashTests {
    static let partitionPause = (variable: "RUNNEL_FAULT_RELAY_PARTITION_PAUSE_US", moment: "relay-between-partition-appends")
    static let deletePause = (variable: "RUNNEL_FAULT_RELAY_PAUSE_US", moment: "relay-after-append-before-delete")
    static let skipLine = "skipped outbox rows already in the log from an interrupted run"

    static func pending(_ store: Store) throws -> Int {
        try DatabaseRole.allCases.reduce(0) { sum, role in
            sum + (try store.database(role).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") } ?? 0)
        }
    }

    @Test func killedKafkaRelaysLoseAndDuplicateNothingAndKeepCommitOrder() throws {
        let schedule = CrashSchedule(defaultSeed: 20_261_207, defaultRounds: 12)
        let (seed, rounds) = (schedule.seed, schedule.rounds)
        var random = schedule.random
        let cluster = try MockCluster()
        try cluster.createTopic("notes", partitions: 3)
        try cluster.createTopic("derived-notes", partitions: 3)
        let temporary = try TemporaryHome(label: "kafka-relay-crash")
        let store = try temporary.openStore()
        let home = temporary.home.url.path
        let topics = ["notes", "derived-notes"]

        let writer = OutboxWriter(store: store, keylessEvery: 7, pauseMicroseconds: 300)
        writer.start()
        defer { writer.stop() }
        var interrupted: [String: Int] = [:]
        var skips = 0
        for round in 0..<rounds {
            let aim = [Self.deletePause, Self.partitionPause, nil][round % 3]
            let pause = 100_000 + random.below(100_000)
            var environment = ["RUNNEL_LOG_LEVEL": "notice"]
            if let aim { environment[aim.variable] = String(pause) }
            let before = try cluster.recordCount(of: topics)
            let relay = try CrashChild(["relay", "--to", "kafka", "--bootstrap-servers", cluster.bootstrapServers, "--kafka-property", MockCluster.quickFetch, "--follow",
                                        "--partitions", "3", "--batch-size", "\(50 + random.below(300))", "--home", home],
                                       environment: environment)
            let reached = relay.kill(at: aim?.moment, pauseMicroseconds: pause, orAfter: 300_000..<900_000, random: &random)
            #expect(reached, "seed \(seed) round \(round): the relay never paused at \(aim?.moment ?? ""): \(relay.standardError.suffix(400))")
            #expect(relay.diedOfSIGKILL, "seed \(seed) round \(round): the relay ended with \(relay.termination), not SIGKILL: \(relay.standardError.suffix(400))")
            let phase = relay.interruptedPause ?? "a moment outside the pauses"
            // Records the killed child produced may still be landing: look once they have.
            usleep(200_000)
            let after = try cluster.recordCount(of: topics)
            let pending = try Self.pending(store)
            let skipped = relay.count(Self.skipLine)
            if let aim {
                #expect(relay.interruptedPause == aim.moment, "seed \(seed) round \(round): the kill missed \(aim.moment)")
                #expect((after > before || skipped > 0) && pending > 0,
                        "seed \(seed) round \(round): killed at \(aim.moment) with the cluster at \(before) -> \(after) records and \(pending) rows pending")
            }
            interrupted[phase, default: 0] += 1
            skips += skipped
            print("kafka relay crash seed \(seed) round \(round): killed at \(phase); cluster \(before) -> \(after) records, \(pending) rows pending, "
                  + "\(skipped) skip\(skipped == 1 ? "" : "s") of rows already there")
        }
        writer.stop()
        #expect(writer.error == nil, "the writer failed: \(String(describing: writer.error))")

        let (drain, summary) = try CrashChild.runToEnd(["relay", "--to", "kafka", "--bootstrap-servers", cluster.bootstrapServers, "--kafka-property", MockCluster.quickFetch,
                                                        "--partitions", "3", "--home", home], environment: ["RUNNEL_LOG_LEVEL": "notice"])
        #expect(drain.process.terminationStatus == 0, "seed \(seed): \(drain.standardError.suffix(400))")
        skips += drain.count(Self.skipLine)
        print("kafka relay crash seed \(seed): \(rounds) rounds, kills at \(interrupted.killTally); "
              + "restarts skipped rows already in the cluster \(skips) times; final drain: \(summary)")
        let aimed = (0..<rounds).filter { $0 % 3 != 2 }.count
        #expect((interrupted[Self.deletePause.moment] ?? 0) + (interrupted[Self.partitionPause.moment] ?? 0) == aimed, "seed \(seed): too few kills landed mid-cycle")
        #expect(skips > 0, "seed \(seed): no restarted relay skipped rows already in the cluster; the rounds proved nothing about duplicates")
        #expect(try Self.pending(store) == 0)
        try expectExactlyOnce(writer.committed.map(CommittedRow.init), in: cluster, partitions: 3, seed: seed)
    }
}
