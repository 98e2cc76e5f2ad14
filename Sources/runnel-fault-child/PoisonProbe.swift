import Foundation
import GRDB
import Pipelines
import Runnel

/// A pipeline that cannot process a batch until the test lets it: it looks each profile view's
/// viewer up in `poison_gate`, a table that does not exist until the test creates it, so every
/// batch fails with a database error — a failure `runnel up` must retry with backoff while its
/// other services go on. Once the table exists, the pipeline catches up.
enum PoisonProbe {
    struct Gate: Decodable, FetchableRecord, Sendable {
        var id: Int64
    }

    struct Viewed: Sendable {
        var viewedId: Int64
    }

    static let pipeline = Pipeline("poison-probe", version: 1, description: "profile views per viewed member, once poison_gate exists") {
        Source(NetworkTopic.profileViews, as: ProfileViewed.self, time: \.occurredAt)
            .enrich(from: LookupTable<Gate>("poison_gate", key: "id"), on: \.viewerId, ifMissing: .substitute(Gate(id: 0))) { view, _ in
                Viewed(viewedId: view.viewedId)
            }
            .keyBy("viewed_id", \.viewedId)
            .aggregate { Count("views") }
            .into(ReadView("poison_probe_views", primaryKey: ["viewed_id"]))
    }
}
