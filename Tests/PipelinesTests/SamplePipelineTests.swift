import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting
import Testing

/// The sample pipelines on the sample data set: their views agree with the business tables
/// they are derived from, and they come out the same however the log is cut into batches.
@Suite struct SamplePipelineTests {
    /// A home with the sample data loaded and relayed into the log.
    static func loadedHome() throws -> (TemporaryHome, Store) {
        let temporary = try TemporaryHome(label: "sample-pipelines")
        return (temporary, try temporary.openStoreWithSampleData(SampleCatalog.catalog))
    }

    static func run(_ pipelines: [Pipeline], _ store: Store, batchSize: Int = 20_000, rebuild: Bool = false) throws {
        for pipeline in pipelines {
            let runner = try PipelineRunner(pipeline: pipeline, store: store, options: .init(batchSize: batchSize, rebuild: rebuild))
            _ = try runner.runToEnd()
        }
    }

    /// Every view of every sample pipeline, as sorted text lines.
    static func views(_ store: Store) throws -> [String: [String]] {
        try store.derived.read { db in
            var views: [String: [String]] = [:]
            for name in ["member_profiles", "member_engagement_5m", "profile_views_by_industry_1h", "member_sessions"] {
                views[name] = try Row.fetchAll(db, sql: "SELECT * FROM \(name)").map { "\($0)" }.sorted()
            }
            return views
        }
    }

    @Test func theViewsAgreeWithTheBusinessTables() throws {
        let (temporary, store) = try Self.loadedHome()
        defer { withExtendedLifetime(temporary) {} }
        try Self.run(SamplePipelines.all, store)
        try store.app.read { app in
            try store.derived.read { derived in
                // (a) one row per member; connections and last activity as the app tables have them.
                let expected = try Row.fetchAll(app, sql: """
                    SELECT m.member_id, m.industry, p.headline,
                           (SELECT count(*) FROM connections c WHERE c.member_a = m.member_id OR c.member_b = m.member_id) AS connections,
                           (SELECT max(occurred_at) FROM member_activity a WHERE a.member_id = m.member_id) AS last_active
                    FROM members m JOIN profiles p USING (member_id) ORDER BY m.member_id
                    """).map { "\($0["member_id"] as Int64) \($0["industry"] as String) \($0["headline"] as String) \($0["connections"] as Int64) \(($0["last_active"] as Int64?).map(String.init) ?? "nil")" }
                let profiles = try Row.fetchAll(derived, sql: "SELECT * FROM member_profiles ORDER BY member_id")
                    .map { "\($0["member_id"] as Int64) \($0["industry"] as String) \($0["headline"] as String) \($0["connection_count"] as Int64) \(($0["last_active_at"] as Int64?).map(String.init) ?? "nil")" }
                #expect(profiles == expected)

                // (b) humans only, per 5 minutes, with the member's industry.
                let engagement = try Row.fetchAll(app, sql: """
                    SELECT a.member_id, (a.occurred_at / 300000) * 300000 AS window_start, m.industry, count(*) AS events, sum(a.dwell_ms) AS dwell
                    FROM member_activity a JOIN members m USING (member_id) WHERE a.is_bot = 0
                    GROUP BY 1, 2 ORDER BY 1, 2
                    """).map { "\($0["member_id"] as Int64) \($0["window_start"] as Int64) \($0["industry"] as String) \($0["events"] as Int64) \($0["dwell"] as Int64)" }
                let view = try Row.fetchAll(derived, sql: "SELECT * FROM member_engagement_5m ORDER BY member_id, window_start")
                    .map { "\($0["member_id"] as Int64) \($0["window_start"] as Int64) \($0["industry"] as String) \($0["events"] as Int64) \($0["dwell_ms"] as Int64)" }
                #expect(!view.isEmpty)
                #expect(view == engagement)

                // (c) every profile view counted once, under the viewer's industry.
                let views = try Row.fetchAll(app, sql: """
                    SELECT v.viewed_id, m.industry, (v.occurred_at / 3600000) * 3600000 AS hour, count(*) AS n
                    FROM profile_views v JOIN members m ON m.member_id = v.viewer_id GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                    """).map { "\($0["viewed_id"] as Int64) \($0["industry"] as String) \($0["hour"] as Int64) \($0["n"] as Int64)" }
                let byIndustry = try Row.fetchAll(derived, sql: "SELECT * FROM profile_views_by_industry_1h ORDER BY viewed_id, viewer_industry, window_start")
                    .map { "\($0["viewed_id"] as Int64) \($0["viewer_industry"] as String) \($0["window_start"] as Int64) \($0["views"] as Int64)" }
                #expect(byIndustry == views)

                // (d) sessions hold every human activity exactly once.
                let humanEvents = try Int64.fetchOne(app, sql: "SELECT count(*) FROM member_activity WHERE is_bot = 0")
                #expect(try Int64.fetchOne(derived, sql: "SELECT sum(events) FROM member_sessions") == humanEvents)
                let overlapping = try Int.fetchOne(derived, sql: """
                    SELECT count(*) FROM member_sessions a JOIN member_sessions b
                    ON a.member_id = b.member_id AND a.window_start < b.window_start AND b.window_start - a.window_end < 15 * 60000
                    """)
                #expect(overlapping == 0)
            }
        }
        #expect(try store.derived.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_pipeline_dead_letters") } == 0)
    }

    /// Everything the sample pipelines derive: their views, the events they announce through
    /// derived.sqlite's outbox (without ids and append times; in commit order per topic and key,
    /// the order the log keeps, since batches interleave partitions differently) and their KV
    /// stores' entries.
    static func derived(_ store: Store) throws -> [String: [String]] {
        var all = try views(store)
        try store.derived.read { db in
            all["outbox"] = try Row.fetchAll(db, sql: "SELECT topic, key, type, payload, event_time FROM runnel_outbox ORDER BY topic, key, id").map { "\($0)" }
            all["kv"] = try Row.fetchAll(db, sql: "SELECT store, hex(key), hex(value) FROM runnel_kv_entries ORDER BY store, key").map { "\($0)" }
        }
        return all
    }

    /// Determinism: views, derived events and KV entries built in many small batches, by
    /// runners restarted between them and batches read but never committed (as after a failed
    /// run), equal those built in one go. (Killed processes: `PipelineCrashTests`.)
    @Test func smallBatchesAndRestartsGiveTheSameResultsAsOneRun() throws {
        let (temporary, store) = try Self.loadedHome()
        defer { withExtendedLifetime(temporary) {} }
        try Self.run(SamplePipelines.all, store)
        let whole = try Self.derived(store)
        #expect(whole.values.allSatisfy { !$0.isEmpty })

        let (incrementalHome, incremental) = try Self.loadedHome()
        defer { withExtendedLifetime(incrementalHome) {} }
        var random = SeededGenerator(seed: 4_242)
        var discarded = 0
        for pipeline in SamplePipelines.all {
            var done = false
            while !done {
                let runner = try PipelineRunner(pipeline: pipeline, store: incremental, options: .init(batchSize: 1 + random.below(97)))
                for _ in 0..<(1 + random.below(6)) {
                    if try runner.runBatch().records == 0 { done = true; break }
                }
                if !done, random.below(3) == 0 {
                    // A batch read and thrown away; the next runner starts from the last commit.
                    try runner.runBatch(committing: false)
                    discarded += 1
                }
            }
        }
        #expect(discarded > 0)
        let built = try Self.derived(incremental)
        for part in whole.keys.sorted() {
            #expect(built[part] == whole[part], "\(part): \(built[part]?.count ?? 0) rows, one run made \(whole[part]?.count ?? 0)")
        }
    }

    /// `--rebuild` replaces whatever the views and KV entries hold (rows lost, stray rows) with
    /// what the log gives, and announces the derived events again, the same ones.
    @Test func aRebuildReplacesDamagedViewsAndKVEntriesWithWhatTheLogGives() throws {
        let (temporary, store) = try Self.loadedHome()
        defer { withExtendedLifetime(temporary) {} }
        try Self.run(SamplePipelines.all, store)
        let whole = try Self.derived(store)
        #expect(whole.values.allSatisfy { !$0.isEmpty })

        let lastEvent = try store.derived.write { db -> Int64 in
            for view in ["member_profiles", "member_engagement_5m", "profile_views_by_industry_1h", "member_sessions"] {
                let key = try #require(try String.fetchOne(db, sql: "SELECT name FROM pragma_table_info(?) WHERE pk = 1", arguments: [view]))
                try db.execute(sql: """
                    CREATE TEMP TABLE stray AS SELECT * FROM \(view) LIMIT 1;
                    UPDATE stray SET \(key) = CASE typeof(\(key)) WHEN 'integer' THEN -1 ELSE 'stray' END;
                    DELETE FROM \(view) WHERE rowid % 3 = 0;
                    INSERT INTO \(view) SELECT * FROM stray;
                    DROP TABLE stray;
                    """)
            }
            try db.execute(sql: """
                DELETE FROM runnel_kv_entries WHERE key IN (SELECT key FROM runnel_kv_entries ORDER BY key LIMIT 5);
                INSERT INTO runnel_kv_entries (store, key, value) SELECT store, x'00', x'00' FROM runnel_kv_entries LIMIT 1;
                """)
            return try Int64.fetchOne(db, sql: "SELECT max(id) FROM runnel_outbox") ?? 0
        }
        let damaged = try Self.derived(store)
        for part in whole.keys where part != "outbox" {
            #expect(damaged[part] != whole[part], "the damage to \(part) did not take")
        }

        try Self.run(SamplePipelines.all, store, rebuild: true)
        var rebuilt = try Self.derived(store)
        #expect(rebuilt.filter { $0.key != "outbox" } == whole.filter { $0.key != "outbox" })
        // The rebuild announced its events again, after the first run's: the same events.
        let announcedAgain = try store.derived.read { db in
            try Row.fetchAll(db, sql: "SELECT topic, key, type, payload, event_time FROM runnel_outbox WHERE id > ? ORDER BY topic, key, id", arguments: [lastEvent]).map { "\($0)" }
        }
        rebuilt["outbox"] = announcedAgain
        #expect(rebuilt == whole)
    }
}
