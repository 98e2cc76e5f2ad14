import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

/// Clicks per user served from the KV store `clicks`, as JSON objects keyed by user id.
let clicksKV = Pipeline("clicks-kv", version: 1, description: "test") {
    Source("clicks", as: Click.self, type: "Click", time: \.at)
        .keyBy("user_id", \.userId)
        .aggregate {
            Count("clicks")
            Sum("dwell_ms", \.dwellMs)
        }
        .into(KVFile("clicks", keyColumn: "user_id"))
}

struct ClickCounts: Decodable, Equatable {
    var user_id: Int64
    var clicks: Int64
    var dwell_ms: Int64
}

/// The `KVFile` sink: entries commit with each batch (guarantee 3 of `docs/guarantees.md`), a run that reaches the end
/// of the log publishes a version, and a replay gives the same file.
@Suite struct KVSinkTests {
    @Test func aRunPublishesTheLatestValuePerKey() throws {
        let driver = try PipelineTestDriver(clicksKV)
        try driver.click(1, user: 1, at: 0, dwell: 100)
        try driver.click(2, user: 1, at: minute, dwell: 50)
        try driver.click(3, user: 2, at: minute, dwell: 7)
        let summary = try driver.run()
        #expect(summary.published.map(\.version) == [1])
        #expect(summary.published.first?.keyCount == 2)
        #expect(summary.published.first?.pipeline == "clicks-kv")
        #expect(summary.published.first?.sourceOffsets == [KVManifest.SourceOffset(topic: "clicks", partition: 0, nextOffset: 3)])
        let store = try driver.kvStore("clicks")
        #expect(try store.get(1, as: ClickCounts.self) == ClickCounts(user_id: 1, clicks: 2, dwell_ms: 150))
        #expect(try store.get(2, as: ClickCounts.self) == ClickCounts(user_id: 2, clicks: 1, dwell_ms: 7))
        #expect(try store.get(3) == nil)

        // Nothing new: no new version. New events: a new version, the old one kept.
        #expect(try driver.run().published.isEmpty)
        try driver.click(4, user: 2, at: 2 * minute, dwell: 3)
        #expect(try driver.run().published.map(\.version) == [2])
        #expect(try store.refresh())
        #expect(try store.get(2, as: ClickCounts.self) == ClickCounts(user_id: 2, clicks: 2, dwell_ms: 10))
        try KVStoreFolder(home: driver.home.home, name: "clicks").rollback()
        #expect(try store.refresh())
        #expect(try store.get(2, as: ClickCounts.self) == ClickCounts(user_id: 2, clicks: 1, dwell_ms: 7))
    }

    @Test func restartsReplayingUncommittedBatchesAndARebuildGiveTheSameFile() throws {
        func load(_ driver: PipelineTestDriver) throws {
            var random = SeededGenerator(seed: 11)
            for id in 0..<600 {
                try driver.click(Int64(id), user: Int64(random.below(40)), at: Int64(id) * 1_000, dwell: Int64(random.below(500)))
            }
        }
        let clean = try PipelineTestDriver(clicksKV, batchSize: 1_000)
        try load(clean)
        let expected = try #require(try clean.run().published.first)

        let restarted = try PipelineTestDriver(clicksKV, batchSize: 37)
        try load(restarted)
        for _ in 0..<5 {
            try restarted.runBatch()
            try restarted.discardUncommittedBatch()
        }
        let replayed = try #require(try restarted.run().published.first)
        #expect(replayed.sha256 == expected.sha256, "the same entries make the same bytes")
        #expect(replayed.keyCount == 40)

        try restarted.replace(with: clicksKV, rebuild: true)
        let rebuilt = try #require(try restarted.run().published.first)
        #expect(rebuilt.version == replayed.version + 1)
        #expect(rebuilt.sha256 == expected.sha256)
    }

    @Test func deletingKVFolderRepublishesOnTheNextRun() throws {
        let driver = try PipelineTestDriver(clicksKV)
        try driver.click(1, user: 1, at: 0)
        let first = try #require(try driver.run().published.first)
        try FileManager.default.removeItem(at: driver.home.home.kvURL)
        let again = try #require(try driver.run().published.first, "a store with no version on disk is published even when nothing changed")
        #expect(again.sha256 == first.sha256)
    }

    @Test func withdrawnSessionsDeleteTheirKeys() throws {
        let pipeline = Pipeline("sessions-kv", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId)
                .window(.session(gap: .minutes(15)), lateness: .minutes(30)) { Count("clicks") }
                .into(KVFile("sessions", key: { row in "\(row["user_id", as: Int64.self] ?? -1)@\(row["window_start", as: Int64.self] ?? -1)" }))
        }
        let driver = try PipelineTestDriver(pipeline)
        try driver.click(1, user: 1, at: 0)
        try driver.click(2, user: 1, at: 20 * minute)
        try driver.run()
        let store = try driver.kvStore("sessions")
        #expect(store.snapshot().keyCount == 2)
        try driver.click(3, user: 1, at: 10 * minute) // bridges the two sessions
        try driver.run()
        try store.refresh()
        #expect(store.snapshot().keyCount == 1)
        let merged = try #require(try store.get("1@0"))
        #expect(String(decoding: merged, as: UTF8.self).contains(#""clicks":3"#))
        #expect(try store.get("1@\(20 * minute)") == nil)
    }

    @Test func rawByteValuesAndBadEntriesGoToDeadLetters() throws {
        let pipeline = Pipeline("pages-kv", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .into(KVFile("last-page", key: { $0.page.count > 100 ? String(repeating: "k", count: 70_000) : "\($0.userId)" }) { Array($0.page.utf8) })
        }
        let driver = try PipelineTestDriver(pipeline)
        try driver.click(1, user: 1, at: 0, page: "/feed")
        try driver.click(2, user: 1, at: 1, page: "/jobs")
        try driver.click(3, user: 2, at: 2, page: "/" + String(repeating: "x", count: 200))
        try driver.click(4, user: 3, at: 3, page: "/search")
        let summary = try driver.run()
        #expect(summary.deadLetters == 1)
        #expect(try driver.deadLetters().first.flatMap { text($0["error"]) }?.contains("keys may be up to 65535 bytes") == true)
        let store = try driver.kvStore("last-page")
        #expect(try store.get(1) == Array("/jobs".utf8))
        #expect(try store.get(3) == Array("/search".utf8))
        #expect(store.snapshot().keyCount == 2)
    }

    @Test func datesInJSONValuesAreWholeMilliseconds() throws {
        // A map that moves the time by 0.4 ms, as app code holding a `Date()` would have it.
        let pipeline = Pipeline("last-click", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .map { click -> Click in
                    var moved = click
                    moved.at = click.at.addingTimeInterval(0.000_4)
                    return moved
                }
                .into(KVFile("last-click", key: { $0.userId }))
        }
        let driver = try PipelineTestDriver(pipeline)
        try driver.click(1, user: 7, at: 1_796_169_392_124)
        try driver.run()
        let value = try #require(try driver.kvStore("last-click").get(7))
        let text = String(decoding: value, as: UTF8.self)
        #expect(text.contains("\"at\":1796169392124,"), "\(text)")
        struct Millis: Decodable { var at: Int64 }
        #expect(try JSONDecoder().decode(Millis.self, from: Data(value)).at == 1_796_169_392_124)
    }

    @Test func aStoreBelongsToOnePipeline() throws {
        let driver = try PipelineTestDriver(clicksKV)
        try driver.click(1, user: 1, at: 0)
        try driver.run()
        let other = Pipeline("other", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .into(KVFile("clicks", key: { $0.userId }) { _ in [] })
        }
        #expect {
            _ = try PipelineRunner(pipeline: other, store: driver.store, log: driver.log)
        } throws: { error in
            (error as? RunnelError)?.message.contains("KV store clicks of pipeline other is already written by pipeline clicks-kv") == true
        }
        let twice = Pipeline("twice", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at).into(KVFile("same", key: { $0.userId }) { _ in [] })
            Source("clicks", as: Click.self, type: "Click", time: \.at).into(KVFile("same", key: { $0.clickId }) { _ in [] })
        }
        #expect(throws: RunnelError.self) { _ = try PipelineRunner(pipeline: twice, store: driver.store, log: driver.log) }
    }

    @Test func enrichLooksEventsUpInAPublishedStore() throws {
        struct Seen: Sendable {
            var clickId: Int64
            var userId: Int64
            var totalClicks: Int64
        }
        let enriched = Pipeline("clicks-enriched", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .enrich(from: KVLookup("clicks", as: ClickCounts.self), on: \.userId, ifMissing: .deadLetter) { click, counts in
                    Seen(clickId: click.clickId, userId: click.userId, totalClicks: counts.clicks)
                }
                .into(ReadView("seen", primaryKey: ["click_id"]) {
                    ViewColumn("click_id", \.clickId)
                    ViewColumn("user_id", \.userId)
                    ViewColumn("total_clicks", \.totalClicks)
                })
        }
        let driver = try PipelineTestDriver(clicksKV)
        try driver.click(1, user: 1, at: 0)
        try driver.click(2, user: 1, at: 1)
        try driver.click(3, user: 2, at: 2)
        try driver.replace(with: enriched)
        #expect {
            try driver.run()
        } throws: { error in
            (error as? RunnelError)?.message.contains("reads KV store clicks, which has no version yet") == true
        }
        try driver.replace(with: clicksKV)
        try driver.run()
        try driver.click(4, user: 3, at: 3) // user 3 is not in the published version
        try driver.replace(with: enriched)
        let summary = try driver.run()
        #expect(summary.deadLetters == 1)
        #expect(try driver.deadLetters().first.flatMap { text($0["error"]) } == #"no key "3" in KV store clicks"#)
        let rows = try driver.rows("seen", orderBy: "click_id").map { [int($0["click_id"]), int($0["total_clicks"])] }
        #expect(rows == [[1, 2], [2, 2], [3, 1]])
    }

    @Test func aFollowerPublishesNewVersionsWhileCaughtUp() async throws {
        let driver = try PipelineTestDriver(clicksKV)
        try driver.click(1, user: 1, at: 0)
        let service = PipelineService(pipeline: clicksKV, store: driver.store, options: .init(kvPublishInterval: .milliseconds(20)))
        let follower = Task { try await service.run() }
        let folder = try KVStoreFolder(home: driver.home.home, name: "clicks")
        func waitFor(version: Int) async throws {
            let deadline = ContinuousClock.now + .seconds(300)
            while try (folder.currentVersion() ?? 0) < version, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        try await waitFor(version: 1)
        let store = try driver.kvStore("clicks")
        #expect(try store.get(1, as: ClickCounts.self)?.clicks == 1)
        try driver.click(2, user: 1, at: 1)
        try await waitFor(version: 2)
        try store.refresh()
        #expect(try store.get(1, as: ClickCounts.self)?.clicks == 2)
        follower.cancel()
        try await follower.value
        #expect(try folder.currentVersion() == 2, "nothing changed after v2, so stopping publishes nothing new")
    }

    @Test func aFollowerOutlastsAStoreLockedByAnotherProcess() async throws {
        let driver = try PipelineTestDriver(clicksKV)
        try driver.click(1, user: 1, at: 0)
        let folder = try KVStoreFolder(home: driver.home.home, name: "clicks")
        try FileManager.default.createDirectory(at: folder.url, withIntermediateDirectories: true)
        // Another builder holds the store's lock (flock is per open file, so this conflicts
        // within one process too).
        let lockFile = open(folder.url.appendingPathComponent("LOCK").path, O_RDWR | O_CREAT, 0o644)
        #expect(flock(lockFile, LOCK_EX) == 0)
        let service = PipelineService(pipeline: clicksKV, store: driver.store, options: .init(kvPublishInterval: .milliseconds(10)))
        let follower = Task { try await service.run() }
        let deadline = ContinuousClock.now + .seconds(300)
        while try driver.rows("runnel_pipelines").first.flatMap({ int($0["events_in"]) }) != 1, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .milliseconds(200)) // publishes are tried every 10 ms, and fail
        #expect(try folder.currentVersion() == nil)
        close(lockFile)
        while try folder.currentVersion() == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(try folder.currentVersion() == 1)
        follower.cancel()
        try await follower.value
    }
}
