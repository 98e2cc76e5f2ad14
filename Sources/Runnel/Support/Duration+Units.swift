extension Duration {
    /// The duration in whole milliseconds (rounded toward zero): leases and history durations
    /// are stored in milliseconds, like every Runnel time.
    package var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }

    /// The duration in seconds, for `Date` arithmetic.
    package var timeInterval: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
