import Foundation

extension Date {
    /// Whole milliseconds since 1970 (UTC), the unit of every Runnel timestamp column, of the
    /// dates in outbox payloads and of Kafka record timestamps.
    ///
    /// The sub-millisecond part of a date such as `Date()` is dropped (rounded down, so a time is
    /// never moved into the next millisecond, or into the next window). A date within a
    /// microsecond below a whole millisecond counts as that millisecond: `Date(millisecondsSince1970:)`
    /// divides by 1000 in floating point, and its date must give back the same number.
    ///
    /// A date beyond what 64 bits of milliseconds hold (or not a number) gives `Int64.max` or
    /// `Int64.min` rather than stopping the process; pipelines refuse event times outside the
    /// years 1 to 9999 as bad input (a dead letter).
    public var millisecondsSince1970: Int64 {
        let milliseconds = timeIntervalSince1970 * 1000
        guard milliseconds > -9.2e18, milliseconds < 9.2e18 else { return milliseconds > 0 ? .max : .min }
        let nearest = milliseconds.rounded()
        return Int64(abs(milliseconds - nearest) < 0.001 ? nearest : milliseconds.rounded(.down))
    }

    /// The largest event time Runnel takes, in milliseconds either side of 1970: the start of
    /// the year 10000. Times beyond it are refused as bad input (a dead letter), so that
    /// window and hour arithmetic on event times can never overflow.
    package static let eventTimeLimit: Int64 = 253_402_300_800_000

    /// ``millisecondsSince1970``, or nil for a date outside ±``eventTimeLimit``.
    package var checkedMillisecondsSince1970: Int64? {
        let milliseconds = timeIntervalSince1970 * 1000
        guard milliseconds.magnitude < Double(Self.eventTimeLimit) else { return nil }
        return millisecondsSince1970
    }

    /// The instant as ISO 8601 with the zone's offset, as a person reads it:
    /// `2026-03-29T03:00:00+02:00`, or `…Z` in UTC.
    package func iso8601(in zone: TimeZone = .gmt) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        return formatter.string(from: self)
    }

    /// Creates a date from milliseconds since 1970 (UTC).
    public init(millisecondsSince1970 milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}

extension JSONEncoder.DateEncodingStrategy {
    /// Dates as whole milliseconds since 1970 (``Foundation/Date/millisecondsSince1970``): what
    /// the outbox writes and KV values hold, so an event type may read a time as an `Int64` of
    /// milliseconds as well as a `Date`. (`.millisecondsSince1970` would write fractions such
    /// as `1796169392124.474` for a `Date()`.)
    static let wholeMilliseconds = JSONEncoder.DateEncodingStrategy.custom { date, encoder in
        var container = encoder.singleValueContainer()
        try container.encode(date.millisecondsSince1970)
    }
}
