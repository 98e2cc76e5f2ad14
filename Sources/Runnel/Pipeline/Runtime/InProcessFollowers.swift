import Foundation

/// The pipelines this process follows now (``PipelineService``), by home: a scheduled
/// `.pipelines` job in the same process (`runnel up`) finds its pipeline kept current by the
/// follower and has nothing to do, instead of waiting for the follower's lock and failing.
enum InProcessFollowers {
    private static let followed = Locked<[String: Int]>([:])

    private static func key(_ pipeline: String, _ home: RunnelHome) -> String { home.url.path + "\u{0}" + pipeline }

    static func enter(_ pipeline: String, in home: RunnelHome) {
        followed.withLock { $0[key(pipeline, home), default: 0] += 1 }
    }

    static func leave(_ pipeline: String, in home: RunnelHome) {
        followed.withLock { followed in
            let key = key(pipeline, home)
            followed[key] = (followed[key] ?? 1) > 1 ? followed[key]! - 1 : nil
        }
    }

    static func isFollowed(_ pipeline: String, in home: RunnelHome) -> Bool {
        followed.withLock { $0[key(pipeline, home)] != nil }
    }
}
