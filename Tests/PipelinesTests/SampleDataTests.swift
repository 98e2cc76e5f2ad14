import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting
import Testing

@Suite struct SampleDataTests {
    let dataset = NetworkDataSet()

    private func generate(_ parameters: SampleParameters) throws -> [String] {
        var lines: [String] = []
        try dataset.generate(parameters) { lines.append($0) }
        return lines
    }

    @Test func theCommittedDataSetIsWhatTheGeneratorMakesFromItsDefaults() throws {
        let committed = try String(contentsOf: dataset.committedFile, encoding: .utf8)
        let generated = try generate(dataset.defaultParameters).map { $0 + "\n" }.joined()
        // If this fails, the generator changed: regenerate with
        // `swift run runnel sample generate --output sample-data/network.jsonl` and commit it.
        #expect(committed == generated)
    }

    @Test func theBuiltInLinesAreTheCommittedFileSoLoadingBothLoadsOnce() throws {
        #expect(try dataset.defaultData() == Data(contentsOf: dataset.committedFile))
        let temporary = try TemporaryHome(label: "sample-default")
        let store = try temporary.openStore(migrations: SampleCatalog.catalog.migrations)
        let first = try SampleLoader(dataset: dataset).loadDefault(into: store)
        #expect(first.appliedLines > 0 && !first.wasAlreadyLoaded)
        let again = try SampleLoader(dataset: dataset).load(dataset.committedFile, into: store)
        #expect(again.wasAlreadyLoaded && again.appendedEvents == 0)
    }

    @Test func theEmbeddedMigrationsAreEveryFileOfTheMigrationsFolder() throws {
        // A new file in migrations/ must be listed in SampleCatalog.migrations too, or the
        // program would ship without it.
        let folder = SampleCatalog.repositoryRoot.appendingPathComponent("migrations", isDirectory: true)
        let onDisk = try Migrations.folder(folder).load()
        let embedded = try #require(SampleCatalog.catalog.migrations).load()
        #expect(embedded.map(\.fileName) == onDisk.map(\.fileName))
        #expect(embedded.map(\.checksum) == onDisk.map(\.checksum))
        #expect(embedded.map(\.sql) == onDisk.map(\.sql))
    }

    @Test func generationIsDeterministicAndTheSeedMatters() throws {
        var parameters = dataset.defaultParameters
        parameters.members = 30
        parameters.hours = 2
        #expect(try generate(parameters) == generate(parameters))
        var other = parameters
        other.seed += 1
        #expect(try generate(parameters) != generate(other))
    }

    @Test func theDefaultDataSetIsSmallSpansHoursAndHasBotsAndLateExceptionTypes() throws {
        let data = try Data(contentsOf: dataset.committedFile)
        #expect(data.count < 1_000_000)
        let operations = try String(decoding: data, as: UTF8.self).split(separator: "\n")
            .map { try JSONDecoder().decode(NetworkOperation.self, from: Data($0.utf8)) }
        let times = operations.map(\.at)
        #expect(times == times.sorted())
        #expect(times.last! - times.first! >= 5 * 3_600_000)

        let bots = Set(operations.filter { $0.op == "join" && $0.bot == true }.compactMap(\.member))
        let activity = operations.filter { $0.op == "activity" }
        let botShare = Double(activity.filter { bots.contains($0.member!) }.count) / Double(activity.count)
        #expect(botShare > 0.01 && botShare < 0.10)

        let start = times.first!
        var firstSeen: [String: Int64] = [:]
        for exception in operations where exception.op == "exception" {
            firstSeen[exception.type!] = min(firstSeen[exception.type!] ?? .max, exception.at)
        }
        let lateTypes = firstSeen.filter { $0.value - start > 3_600_000 }.keys
        #expect(lateTypes.count >= 2)
        #expect(firstSeen.count > lateTypes.count)
    }

    @Test func loadingFillsTheOutboxThroughTheOperationsExactlyOnce() throws {
        let temporary = try TemporaryHome()
        let store = try temporary.openStore(migrations: SampleCatalog.catalog.migrations)
        let lines = try String(contentsOf: dataset.committedFile, encoding: .utf8).split(separator: "\n").count

        let summary = try SampleLoader(dataset: dataset, batchSize: 300).load(dataset.committedFile, into: store)
        #expect(summary.appliedLines == lines)
        #expect(!summary.wasAlreadyLoaded)
        let counts = try store.app.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_outbox")!,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM member_activity")!,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_outbox WHERE type = 'ActivityRecorded'")!,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM connections")!,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_outbox WHERE type = 'ConnectionMade'")!)
        }
        #expect(counts.0 == summary.appendedEvents)
        #expect(counts.0 > lines)  // accepting an invitation announces two events
        #expect(counts.1 == counts.2)
        #expect(counts.3 == counts.4)

        let again = try SampleLoader(dataset: dataset).load(dataset.committedFile, into: store)
        #expect(again.wasAlreadyLoaded)
        #expect(again.appendedEvents == 0)
        #expect(try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") } == counts.0)
    }

    @Test func aBadLineStopsTheLoadNamingTheLineAndKeepsEarlierBatches() throws {
        let temporary = try TemporaryHome()
        let store = try temporary.openStore(migrations: SampleCatalog.catalog.migrations)
        var lines = try String(contentsOf: dataset.committedFile, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[249] = #"{"op":"teleport","at":1767600000000}"#
        let file = temporary.folder.appendingPathComponent("broken.jsonl")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: file)

        let error = try #require(throws: RunnelError.self) {
            try SampleLoader(dataset: dataset, batchSize: 100).load(file, into: store)
        }
        #expect(error.description.contains("broken.jsonl line 250"))
        #expect(error.description.contains("unknown operation \"teleport\""))
        let progress = try store.app.read { try Int.fetchOne($0, sql: "SELECT next_line FROM runnel_sample_loads") }
        #expect(progress == 200)
        // Whatever committed is whole: every activity row has its event.
        let (activity, events) = try store.app.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM member_activity")!,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_outbox WHERE type = 'ActivityRecorded'")!)
        }
        #expect(activity == events)
    }

    @Test func aSecondLoadThatMovedTheProgressStopsTheFirstBeforeItAppliesLinesTwice() throws {
        let clean = try TemporaryHome(label: "clean")
        let cleanStore = try clean.openStore(migrations: SampleCatalog.catalog.migrations)
        try SampleLoader(dataset: dataset, batchSize: 300).load(dataset.committedFile, into: cleanStore)

        // Between two of the first load's batches, another load (another process, as far as
        // the database can tell) loads the rest of the file.
        let temporary = try TemporaryHome()
        let store = try temporary.openStore(migrations: SampleCatalog.catalog.migrations)
        var interleaved = false
        let error = try #require(throws: RunnelError.self) {
            try SampleLoader(dataset: dataset, batchSize: 300).load(dataset.committedFile, into: store) { done, _ in
                guard !interleaved, done == 300 else { return }
                interleaved = true
                _ = try? SampleLoader(dataset: dataset, batchSize: 300).load(dataset.committedFile, into: store)
            }
        }
        #expect(interleaved)
        #expect(error.code == .concurrentRunner, "\(error)")
        #expect(error.description.contains("nothing was applied twice"))
        func contents(_ store: Store) throws -> [String] {
            try store.app.read { db in
                try Row.fetchAll(db, sql: "SELECT topic, key, type, payload FROM runnel_outbox ORDER BY id").map { "\($0)" }
                    + Row.fetchAll(db, sql: "SELECT * FROM member_activity ORDER BY activity_id").map { "\($0)" }
            }
        }
        #expect(try contents(store) == contents(cleanStore))
    }

    @Test func aDifferentFileOfTheSameDataSetIsRefused() throws {
        let temporary = try TemporaryHome()
        let store = try temporary.openStore(migrations: SampleCatalog.catalog.migrations)
        var parameters = dataset.defaultParameters
        parameters.members = 10
        parameters.hours = 1
        let small = temporary.folder.appendingPathComponent("small.jsonl")
        try dataset.generate(parameters, to: small)
        try SampleLoader(dataset: dataset).load(small, into: store)
        let error = try #require(throws: RunnelError.self) { try SampleLoader(dataset: dataset).load(dataset.committedFile, into: store) }
        #expect(error.description.contains("fresh home"))
    }
}
