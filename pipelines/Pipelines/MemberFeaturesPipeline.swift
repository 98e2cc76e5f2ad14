import Foundation
import Runnel

/// (e) Member features for application code, served from the KV store `member-features`:
/// connection count, engagement score, industry and last activity per member, one JSON object
/// per member id, looked up in memory with `KVStore` (`runnel kv get member-features 42`).
///
/// Engagement weighs what a human member did: a page view 1, a click 2, a reaction 3, a post 5.
/// Bots' activity counts towards last activity but scores nothing.
public enum MemberFeaturesPipeline {
    /// What one event says about one member's features.
    public struct FeatureFact: Sendable {
        public var memberId: Int64
        public var industry: String?
        public var connections: Int64 = 0
        public var engagement: Int64 = 0
        public var activeAt: Date?

        public init(memberId: Int64) {
            self.memberId = memberId
        }
    }

    /// The points an activity of a kind earns.
    public static func engagementPoints(kind: String) -> Int64 {
        switch kind {
        case "page_view": 1
        case "click": 2
        case "reaction": 3
        case "post": 5
        default: 0
        }
    }

    public static let pipeline = Pipeline(
        "member-features", version: 1,
        description: "Connection count, engagement score, industry and last activity per member (KV store member-features)"
    ) {
        Source(NetworkTopic.memberProfile, as: MemberJoined.self, time: \.joinedAt)
            .map { joined in
                var fact = FeatureFact(memberId: joined.memberId)
                fact.industry = joined.industry
                return fact
            }
            .merge(
                NetworkSources.connectedMembers
                    .map { member in
                        var fact = FeatureFact(memberId: member)
                        fact.connections = 1
                        return fact
                    },
                Source(NetworkTopic.memberActivity, as: ActivityRecorded.self, time: \.occurredAt)
                    .map { activity in
                        var fact = FeatureFact(memberId: activity.memberId)
                        fact.engagement = activity.isBot ? 0 : engagementPoints(kind: activity.kind)
                        fact.activeAt = activity.occurredAt
                        return fact
                    }
            )
            .keyBy("member_id", \.memberId)
            .aggregate {
                Latest("industry", \.industry)
                Sum("connection_count", \.connections)
                Sum("engagement_score", \.engagement)
                Max("last_active_at", \.activeAt)
            }
            .into(KVFile("member-features", keyColumn: "member_id"))
    }
}

/// (f) Each member's current headline as raw UTF-8 bytes in the KV store `member-headlines`:
/// the simplest kind of store, a typed stream with a key and the bytes to serve.
public enum MemberHeadlinesPipeline {
    /// A member's headline as of an event.
    public struct Headline: Sendable {
        public var memberId: Int64
        public var headline: String
    }

    public static let pipeline = Pipeline(
        "member-headlines", version: 1,
        description: "The current headline per member, as raw bytes (KV store member-headlines)"
    ) {
        Source(NetworkTopic.memberProfile, as: MemberJoined.self, time: \.joinedAt)
            .map { Headline(memberId: $0.memberId, headline: $0.headline) }
            .merge(
                Source(NetworkTopic.memberProfile, as: HeadlineUpdated.self, time: \.updatedAt)
                    .map { Headline(memberId: $0.memberId, headline: $0.headline) }
            )
            .into(KVFile("member-headlines", key: { $0.memberId }, value: { Array($0.headline.utf8) }))
    }
}
