import Foundation
import GRDB
@testable import Runnel
import RunnelTesting
import Testing

/// The relay's dedupe never confuses two incarnations of a database: each database file has a
/// random identity, every record carries it, and only records of the same identity are skipped
/// as "already in the log".
@Suite struct RelayDatabaseIdentityTests {
    /// Commits `count` events to one outbox, each its own transaction, with `text` in the payload.
    static func commitNotes(_ count: Int, text: String, role: DatabaseRole, topic: String, to store: Store) throws {
        for sequence in 0..<count {
            _ = try store.database(role).write { db in
                try store.outbox.append(OutboxEvent(topic: topic, key: "k\(sequence % 3)", type: "Noted",
                                                    payload: Note(sequence: sequence, text: text), eventTime: Date()), in: db)
            }
        }
    }

    /// Appends the pending rows of one outbox to the log as the relay did before identities
    /// (no `outbox-database` header) and leaves them pending: a run killed between its append
    /// and its delete.
    static func appendAsAnInterruptedRelayBeforeIdentities(_ database: some DatabaseReader, role: DatabaseRole,
                                                           log: Log, topic name: String) throws {
        let rows = try database.read { try OutboxRow.fetchPending($0, limit: 1_000) }
        let topic = try log.topic(name, creatingWith: TopicConfiguration())
        try topic.partitions[0].append(rows.map { row in
            LogRecord(timestamp: row.eventTime, key: row.key.map { Array($0.utf8) }, value: Array(row.payload.utf8), headers: [
                RecordHeader("outbox-id", String(row.id)), RecordHeader("outbox-source", role.rawValue),
                RecordHeader("type", row.type), RecordHeader("schema-version", String(row.schemaVersion)),
            ])
        })
        try log.flush()
    }

    /// Each record's (text, sequence) of a topic, counted.
    static func events(_ home: RunnelHome, topic: String) throws -> [String: Int] {
        let log = try Log.openForReading(home.logURL)
        var counts: [String: Int] = [:]
        for record in try records(in: log, topic: topic) {
            let note = try JSONDecoder().decode(Note.self, from: Data(record.value!))
            counts["\(note.text):\(note.sequence):\(String(decoding: record.key!, as: UTF8.self))", default: 0] += 1
        }
        return counts
    }

    static func expected(_ count: Int, text: String) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: (0..<count).map { ("\(text):\($0):k\($0 % 3)", 1) })
    }

    static func removeDerivedDatabase(_ home: RunnelHome) throws {
        for suffix in ["", "-wal", "-shm"] {
            let path = home.derivedDatabaseURL.path + suffix
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        }
    }

    /// The documented rebuild path: `derived.sqlite` deleted, its outbox ids start at 1 again, and
    /// a changed pipeline announces other events into the same topic. None of them may be taken
    /// for the earlier incarnation's records.
    @Test func aRebuiltDerivedDatabaseHasEveryNewEventRelayed() throws {
        let temporary = try TemporaryHome(label: "relay-identity")
        let before: String
        do {
            let store = try temporary.openStore()
            try commit(12, to: store)
            try Self.commitNotes(30, text: "version-1", role: .derived, topic: "derived-notes", to: store)
            let log = try Log.open(temporary.home.logURL)
            #expect(try OutboxRelay(store: store, log: log).drain().relayed == 42)
            try log.close()
            before = try store.derived.read(DatabaseIdentity.read).id
        }
        try Self.removeDerivedDatabase(temporary.home)

        let store = try temporary.openStore()
        let after = try store.derived.read(DatabaseIdentity.read)
        #expect(after.id != before)
        #expect(!after.claimsUnmarkedRecords)
        try Self.commitNotes(20, text: "version-2", role: .derived, topic: "derived-notes", to: store)
        let log = try Log.open(temporary.home.logURL)
        let summary = try OutboxRelay(store: store, log: log).drain()
        try log.close()
        #expect(summary.skippedAsAlreadyInLog == 0)
        #expect(summary.relayed == 20)

        var expected = Self.expected(30, text: "version-1")
        expected.merge(Self.expected(20, text: "version-2")) { $0 + $1 }
        #expect(try Self.events(temporary.home, topic: "derived-notes") == expected)
        let identities = Set(try records(in: Log.openForReading(temporary.home.logURL), topic: "derived-notes")
            .map { $0.header(OutboxRelay.Header.database).map { String(decoding: $0, as: UTF8.self) } })
        #expect(identities == [before, after.id])
    }

    /// `app.sqlite` restored from a backup keeps its identity but hands out ids the log already
    /// holds: the relay refuses to start (it would skip the new rows as relayed), and with a new
    /// identity every pending row is relayed, the new events among them.
    @Test func aDatabaseRestoredFromABackupIsRefusedUntilItHasANewIdentity() throws {
        let temporary = try TemporaryHome(label: "relay-restore")
        let backup = temporary.folder.appendingPathComponent("app-backup.sqlite")
        do {
            let store = try temporary.openStore()
            try Self.commitNotes(5, text: "before", role: .app, topic: "notes", to: store)
            try store.app.backup(to: try DatabaseQueue(path: backup.path))
            try Self.commitNotes(5, text: "after-backup", role: .app, topic: "notes", to: store)
            let log = try Log.open(temporary.home.logURL)
            #expect(try OutboxRelay(store: store, log: log).drain().relayed == 10)
            try log.close()
        }
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: temporary.home.appDatabaseURL.path + suffix) {
            try FileManager.default.removeItem(atPath: temporary.home.appDatabaseURL.path + suffix)
        }
        try FileManager.default.copyItem(at: backup, to: temporary.home.appDatabaseURL)

        let store = try temporary.openStore()
        try Self.commitNotes(3, text: "restored", role: .app, topic: "notes", to: store)   // ids 6–8 again
        let log = try Log.open(temporary.home.logURL)
        let refusal = try #require(throws: RunnelError.self) { try OutboxRelay(store: store, log: log) }
        #expect(refusal.code == .database)
        #expect(refusal.description.contains("holds outbox id 10 of \(temporary.home.appDatabaseURL.path)"), "\(refusal)")
        #expect(refusal.description.contains("has handed out ids only up to 8"))
        #expect(refusal.description.contains("runnel relay --new-identity app.sqlite"))

        _ = try store.app.write(DatabaseIdentity.renew)
        let summary = try OutboxRelay(store: store, log: log).drain()
        try log.close()
        #expect(summary.skippedAsAlreadyInLog == 0)
        #expect(summary.relayed == 8)
        var expected = Self.expected(5, text: "before").mapValues { $0 * 2 }   // in the log before the restore, and again
        expected.merge(Self.expected(5, text: "after-backup")) { $0 + $1 }
        expected.merge(Self.expected(3, text: "restored")) { $0 + $1 }
        #expect(try Self.events(temporary.home, topic: "notes") == expected)
    }

    /// A home made before identities, upgraded while a relay run was interrupted between its
    /// append and its delete: the upgraded database claims the unmarked records it left, so the
    /// next run skips them instead of appending them twice.
    @Test func anInterruptedRelayAcrossTheUpgradeAppendsNothingTwice() throws {
        let temporary = try TemporaryHome(label: "relay-upgrade")
        try FileManager.default.createDirectory(at: temporary.home.url, withIntermediateDirectories: true)
        do {
            // Both databases as a release before identities left them, with pending rows.
            for role in DatabaseRole.allCases {
                let pool = try DatabasePool(path: temporary.home.databaseURL(role).path, configuration: Store.makeConfiguration())
                let migrator = RunnelSchema.migrator(for: role)
                let identity = try #require(migrator.migrations.firstIndex(of: "runnel-v6-database-identity"))
                try migrator.migrate(pool, upTo: migrator.migrations[identity - 1])
                let outbox = Outbox()
                for sequence in 0..<25 {
                    _ = try pool.write { db in
                        try outbox.append(OutboxEvent(topic: "\(role)-notes", key: "k\(sequence % 3)", type: "Noted",
                                                      payload: Note(sequence: sequence, text: "old"), eventTime: Date()), in: db)
                    }
                }
                let log = try Log.open(temporary.home.logURL)
                try Self.appendAsAnInterruptedRelayBeforeIdentities(pool, role: role, log: log, topic: "\(role)-notes")
                try log.close()
            }
        }

        let store = try temporary.openStore()
        for role in DatabaseRole.allCases {
            #expect(try store.database(role).read(DatabaseIdentity.read).claimsUnmarkedRecords)
        }
        let log = try Log.open(temporary.home.logURL)
        let summary = try OutboxRelay(store: store, log: log).drain()
        try log.close()
        #expect(summary.skippedAsAlreadyInLog == 50)
        #expect(summary.relayed == 0)
        for role in DatabaseRole.allCases {
            #expect(try Self.events(temporary.home, topic: "\(role)-notes") == Self.expected(25, text: "old"))
            #expect(try store.database(role).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") } == 0)
        }
    }

    /// Records without an identity left by an earlier incarnation (a `derived.sqlite` deleted
    /// before the upgrade) belong to no database created since: its rows with the same ids are new.
    @Test func aNewDatabaseNeverClaimsRecordsWithoutAnIdentity() throws {
        let temporary = try TemporaryHome(label: "relay-unmarked")
        do {
            let store = try temporary.openStore()
            try Self.commitNotes(15, text: "earlier", role: .derived, topic: "derived-notes", to: store)
            let log = try Log.open(temporary.home.logURL)
            try Self.appendAsAnInterruptedRelayBeforeIdentities(store.derived, role: .derived, log: log, topic: "derived-notes")
            try log.close()
        }
        try Self.removeDerivedDatabase(temporary.home)

        let store = try temporary.openStore()
        try Self.commitNotes(15, text: "later", role: .derived, topic: "derived-notes", to: store)
        let log = try Log.open(temporary.home.logURL)
        let summary = try OutboxRelay(store: store, log: log).drain()
        try log.close()
        #expect(summary.skippedAsAlreadyInLog == 0)
        var expected = Self.expected(15, text: "earlier")
        expected.merge(Self.expected(15, text: "later")) { $0 + $1 }
        #expect(try Self.events(temporary.home, topic: "derived-notes") == expected)
    }
}

/// The same, end to end with a real pipeline: a home relayed and run, `derived.sqlite` deleted,
/// a new version of the pipeline (other payloads) replayed from offset 0 into the same derived
/// topic, relayed: every event of the new version is in the log, beside the old version's.
@Suite struct RelayAfterARebuiltPipelineTests {
    struct Reading: Codable, Sendable {
        var sensor: Int64
        var value: Int64
        var at: Date
    }

    struct Announced: Codable, Sendable, Hashable {
        var sensor: Int64
        var value: Int64
        var version: Int
    }

    /// Announces each reading on the derived topic `announcements`; version 2 announces other values.
    static func announcer(version: Int) -> Pipeline {
        Pipeline("announcer", version: version, description: "each reading announced, value times the version") {
            Source("readings", as: Reading.self, type: "Read", time: \.at)
                .map { Announced(sensor: $0.sensor, value: $0.value * Int64(version), version: version) }
                .into(Topic("announcements", type: "Announced") { "\($0.sensor)" })
        }
    }

    static func relay(_ store: Store) throws -> OutboxRelay.Summary {
        let log = try Log.open(store.home.logURL)
        defer { try? log.close() }
        return try OutboxRelay(store: store, log: log).drain()
    }

    static func run(_ pipeline: Pipeline, _ store: Store) throws {
        _ = try PipelineRunner(pipeline: pipeline, store: store, log: Log.openForReading(store.home.logURL)).runToEnd()
    }

    @Test func everyEventOfTheRebuiltPipelineVersionReachesTheLog() throws {
        let temporary = try TemporaryHome(label: "relay-rebuild")
        do {
            let store = try temporary.openStore()
            for index in 0..<40 {
                _ = try store.app.write { db in
                    try store.outbox.append(OutboxEvent(topic: "readings", key: "\(index % 4)", type: "Read",
                                                        payload: Reading(sensor: Int64(index), value: Int64(index), at: Date(millisecondsSince1970: 1_700_000_000_000 + Int64(index))),
                                                        eventTime: Date(millisecondsSince1970: 1_700_000_000_000 + Int64(index))), in: db)
                }
            }
            #expect(try Self.relay(store).relayed == 40)
            try Self.run(Self.announcer(version: 1), store)
            #expect(try Self.relay(store).relayed == 40)
        }
        try RelayDatabaseIdentityTests.removeDerivedDatabase(temporary.home)

        let store = try temporary.openStore()
        try Self.run(Self.announcer(version: 2), store)
        let summary = try Self.relay(store)
        #expect(summary.skippedAsAlreadyInLog == 0)
        #expect(summary.relayed == 40)

        var announced: [Announced: Int] = [:]
        for record in try records(in: Log.openForReading(temporary.home.logURL), topic: "announcements") {
            announced[try JSONDecoder().decode(Announced.self, from: Data(record.value!)), default: 0] += 1
        }
        var expected: [Announced: Int] = [:]
        for version in 1...2 {
            for sensor in 0..<40 { expected[Announced(sensor: Int64(sensor), value: Int64(sensor * version), version: version)] = 1 }
        }
        #expect(announced == expected)
    }
}
