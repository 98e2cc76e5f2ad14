/// How much a latency scenario does: counted rounds in which every side writes for a fixed time,
/// after one warm-up round.
struct TimedRounds {
    /// Counted rounds, each running every side.
    var rounds: Int
    /// Seconds of writing per side and counted round.
    var roundSeconds: Double
    /// Seconds of writing per side in the warm-up round.
    var warmUpSeconds: Double

    /// A quick or a full run: 3 or 10 seconds of events a side.
    init(quick: Bool) {
        (rounds, roundSeconds, warmUpSeconds) = quick ? (2, 1.5, 0.5) : (4, 2.5, 1)
    }
}
