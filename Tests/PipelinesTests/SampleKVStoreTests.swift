import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting
import Testing

/// The sample KV stores on the sample data set agree with the business tables they are
/// derived from, looked up the way application code does.
@Suite struct SampleKVStoreTests {
    struct Features: Decodable {
        var member_id: Int64
        var industry: String?
        var connection_count: Int64
        var engagement_score: Int64
        var last_active_at: Int64?
    }

    @Test func memberFeaturesAndHeadlinesAgreeWithTheBusinessTables() throws {
        let (temporary, store) = try SamplePipelineTests.loadedHome()
        defer { withExtendedLifetime(temporary) {} }
        try SamplePipelineTests.run([MemberFeaturesPipeline.pipeline, MemberHeadlinesPipeline.pipeline], store)
        let features = try KVStore.open("member-features", in: temporary.home)
        let headlines = try KVStore.open("member-headlines", in: temporary.home)
        let members = try store.app.read { db in
            try Row.fetchAll(db, sql: """
                SELECT m.member_id, m.industry, p.headline,
                       (SELECT count(*) FROM connections c WHERE c.member_a = m.member_id OR c.member_b = m.member_id) AS connections,
                       (SELECT coalesce(sum(CASE kind WHEN 'page_view' THEN 1 WHEN 'click' THEN 2 WHEN 'reaction' THEN 3 WHEN 'post' THEN 5 ELSE 0 END), 0)
                        FROM member_activity a WHERE a.member_id = m.member_id AND a.is_bot = 0) AS score,
                       (SELECT max(occurred_at) FROM member_activity a WHERE a.member_id = m.member_id) AS last_active
                FROM members m JOIN profiles p USING (member_id) ORDER BY m.member_id
                """)
        }
        #expect(members.count == 100)
        #expect(features.snapshot().keyCount == members.count)
        #expect(headlines.snapshot().keyCount == members.count)
        var scored = 0
        for member in members {
            let id: Int64 = member["member_id"]
            let got = try #require(try features.get(id, as: Features.self), "member \(id)")
            #expect(got.member_id == id)
            #expect(got.industry == member["industry"])
            #expect(got.connection_count == member["connections"])
            #expect(got.engagement_score == member["score"])
            #expect(got.last_active_at == member["last_active"])
            if got.engagement_score > 0 { scored += 1 }
            #expect(try headlines.get(id) == Array((member["headline"] as String).utf8))
        }
        #expect(scored > 50)
        #expect(try features.get(0) == nil)
    }
}
