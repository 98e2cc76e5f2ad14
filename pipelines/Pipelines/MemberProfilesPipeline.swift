import Foundation
import Runnel

/// (a) The CQRS read view of member profiles: the latest profile per member, how many
/// connections they have, and when they were last active — one row per member, kept current
/// from three topics.
///
/// Each topic's events become `ProfileFact`s carrying only what they know; a running aggregate
/// per member folds them: `Latest` keeps the value of the newest fact that has one (by event
/// time, so the answer does not depend on how the topics interleave), `Sum` counts connections.
public enum MemberProfilesPipeline {
    /// What one event says about one member.
    public struct ProfileFact: Sendable {
        public var memberId: Int64
        public var name: String?
        public var industry: String?
        public var headline: String?
        public var location: String?
        public var isBot: Bool?
        public var joinedAt: Date?
        public var connections: Int64 = 0
        public var activeAt: Date?

        public init(memberId: Int64) {
            self.memberId = memberId
        }
    }

    public static let pipeline = Pipeline(
        "member-profiles", version: 1,
        description: "Latest profile, connection count and last activity per member (view member_profiles)"
    ) {
        Source(NetworkTopic.memberProfile, as: MemberJoined.self, time: \.joinedAt)
            .map { joined in
                var fact = ProfileFact(memberId: joined.memberId)
                (fact.name, fact.industry, fact.headline) = (joined.name, joined.industry, joined.headline)
                (fact.location, fact.isBot, fact.joinedAt) = (joined.location, joined.isBot, joined.joinedAt)
                return fact
            }
            .merge(
                Source(NetworkTopic.memberProfile, as: HeadlineUpdated.self, time: \.updatedAt)
                    .map { updated in
                        var fact = ProfileFact(memberId: updated.memberId)
                        fact.headline = updated.headline
                        return fact
                    },
                NetworkSources.connectedMembers
                    .map { member in
                        var fact = ProfileFact(memberId: member)
                        fact.connections = 1
                        return fact
                    },
                Source(NetworkTopic.memberActivity, as: ActivityRecorded.self, time: \.occurredAt)
                    .map { activity in
                        var fact = ProfileFact(memberId: activity.memberId)
                        fact.activeAt = activity.occurredAt
                        return fact
                    }
            )
            .keyBy("member_id", \.memberId)
            .aggregate {
                Latest("name", \.name)
                Latest("industry", \.industry)
                Latest("headline", \.headline)
                Latest("location", \.location)
                Latest("is_bot", \.isBot)
                Max("joined_at", \.joinedAt)
                Sum("connection_count", \.connections)
                Max("last_active_at", \.activeAt)
            }
            .into(ReadView("member_profiles", primaryKey: ["member_id"]))
    }
}
