import Foundation
import Runnel
import Synchronization

/// Each pipeline's lag over the last hour, as sampled by ``LagSampler`` since the dashboard
/// started: kept in memory only, so a restarted dashboard starts an empty history.
final class LagHistory: Sendable {
    /// One reading of a pipeline's lag.
    struct Sample: Sendable, Codable, Equatable {
        /// When it was read, in milliseconds since 1970.
        var at: Int64
        /// Records waiting for the pipeline.
        var lagEvents: Int64
    }

    /// How much history is kept: samples older than this are dropped.
    static let span: Int64 = 3_600_000

    /// When the dashboard started sampling, in milliseconds since 1970.
    let startedAt: Int64
    private let samples = Mutex<[String: [Sample]]>([:])

    init(startedAt: Date = Date()) {
        self.startedAt = startedAt.millisecondsSince1970
    }

    /// Adds one reading per pipeline and drops those older than ``span`` before `at`.
    func record(_ lags: [(pipeline: String, lagEvents: Int64)], at: Int64) {
        samples.withLock { samples in
            for (pipeline, lag) in lags {
                samples[pipeline, default: []].append(Sample(at: at, lagEvents: lag))
            }
            for pipeline in samples.keys {
                samples[pipeline]?.removeAll { $0.at < at - Self.span }
            }
        }
    }

    /// A pipeline's samples, oldest first.
    func samples(of pipeline: String) -> [Sample] {
        samples.withLock { $0[pipeline] ?? [] }
    }
}
