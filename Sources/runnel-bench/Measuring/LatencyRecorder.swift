import Histogram

/// Collects operation latencies in an HdrHistogram (three significant digits, nanoseconds up to
/// a minute), so percentiles stay exact enough without keeping every sample.
struct LatencyRecorder: Sendable {
    private static let highestTrackableNanoseconds: UInt64 = 60_000_000_000

    private var histogram = Histogram<UInt64>(
        highestTrackableValue: highestTrackableNanoseconds, numberOfSignificantValueDigits: .three)

    /// How many latencies were recorded.
    var count: UInt64 { histogram.totalCount }

    /// Records one latency; anything over a minute counts as a minute.
    mutating func record(_ duration: Duration) {
        let nanoseconds = duration.nanoseconds
        _ = histogram.record(min(nanoseconds, Self.highestTrackableNanoseconds))
    }

    /// Adds every latency another recorder holds.
    mutating func add(_ other: LatencyRecorder) {
        histogram.add(other.histogram)
    }

    /// The percentiles recorded so far, in microseconds.
    var summary: LatencySummary {
        LatencySummary(
            p50: Double(histogram.valueAtPercentile(50)) / 1000,
            p99: Double(histogram.valueAtPercentile(99)) / 1000,
            max: Double(histogram.max) / 1000)
    }
}

extension Duration {
    /// The duration in whole nanoseconds (negative durations count as zero).
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        // Under a second, a negative duration has zero seconds and negative attoseconds.
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }

    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
