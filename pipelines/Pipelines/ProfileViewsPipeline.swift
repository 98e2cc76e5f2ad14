import Foundation
import Runnel

/// (c) "Who viewed your profile": per member viewed and per viewer industry, the views and the
/// distinct viewers in each hour.
public enum ProfileViewsPipeline {
    /// A profile view with the viewer's industry.
    public struct View: Sendable {
        public var viewedId: Int64
        public var viewerId: Int64
        public var viewerIndustry: String
    }

    public static let pipeline = Pipeline(
        "profile-views-by-industry-1h", version: 1,
        description: "Profile views per viewed member and viewer industry per hour (view profile_views_by_industry_1h)"
    ) {
        Source(NetworkTopic.profileViews, as: ProfileViewed.self, time: \.occurredAt)
            .enrich(from: MemberRow.table, on: \.viewerId,
                    ifMissing: .substitute(MemberRow(memberId: 0, name: "", industry: "unknown", isBot: false))) { view, viewer in
                View(viewedId: view.viewedId, viewerId: view.viewerId, viewerIndustry: viewer.industry)
            }
            .keyBy("viewed_id", \.viewedId, "viewer_industry", \.viewerIndustry)
            .window(.tumbling(.hours(1)), lateness: .minutes(5), emit: .onUpdate) {
                Count("views")
                DistinctCount("distinct_viewers", \.viewerId)
            }
            .into(ReadView("profile_views_by_industry_1h", primaryKey: ["viewed_id", "viewer_industry", "window_start"]))
    }
}
