import Foundation
import Runnel

/// (b) Member engagement per 5-minute tumbling window: bots filtered out, each activity
/// enriched with the member's industry from the app's `members` table, then counts and
/// dwell-time sums per member and window.
public enum MemberEngagementPipeline {
    /// An activity with its member's industry.
    public struct Engagement: Sendable {
        public var memberId: Int64
        public var industry: String
        public var kind: String
        public var dwellMs: Int64
    }

    public static let pipeline = Pipeline(
        "member-engagement-5m", version: 1,
        description: "Events and dwell time per human member per 5 minutes, with industry (view member_engagement_5m)"
    ) {
        Source(NetworkTopic.memberActivity, as: ActivityRecorded.self, time: \.occurredAt)
            .filter { !$0.isBot }
            .dedupe(by: \.activityId, within: .hours(1))
            .enrich(from: MemberRow.table, on: \.memberId, ifMissing: .deadLetter) { activity, member in
                Engagement(memberId: activity.memberId, industry: member.industry, kind: activity.kind, dwellMs: activity.dwellMs)
            }
            .keyBy("member_id", \.memberId)
            .window(.tumbling(.minutes(5)), lateness: .minutes(1), emit: .onUpdate) {
                Latest("industry", \.industry)
                Count("events")
                Sum("dwell_ms", \.dwellMs)
                DistinctCount("kinds", \.kind)
            }
            .into(ReadView("member_engagement_5m", primaryKey: ["member_id", "window_start"]))
    }
}
