/// A length of event time, in milliseconds: window sizes, lateness, dedupe horizons.
///
/// ```swift
/// .window(.tumbling(.minutes(5)), lateness: .minutes(1))
/// ```
public struct TimeSpan: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The span in milliseconds.
    public let milliseconds: Int64

    /// A span of `milliseconds` milliseconds.
    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    public static let zero = TimeSpan(milliseconds: 0)
    public static func milliseconds(_ count: Int64) -> TimeSpan { TimeSpan(milliseconds: count) }
    public static func seconds(_ count: Int64) -> TimeSpan { TimeSpan(milliseconds: count * 1_000) }
    public static func minutes(_ count: Int64) -> TimeSpan { TimeSpan(milliseconds: count * 60_000) }
    public static func hours(_ count: Int64) -> TimeSpan { TimeSpan(milliseconds: count * 3_600_000) }
    public static func days(_ count: Int64) -> TimeSpan { TimeSpan(milliseconds: count * 86_400_000) }

    public static func < (lhs: TimeSpan, rhs: TimeSpan) -> Bool { lhs.milliseconds < rhs.milliseconds }

    public var description: String {
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)] where milliseconds >= size && milliseconds % size == 0 {
            return "\(milliseconds / size)\(unit)"
        }
        return "\(milliseconds)ms"
    }
}

/// How a window groups event time.
public enum WindowKind: Sendable, Hashable, CustomStringConvertible {
    /// Fixed, non-overlapping windows of `size`, aligned to the epoch: `[k·size, (k+1)·size)`.
    case tumbling(TimeSpan)
    /// Windows of `size` starting every `advance`, so each event falls in `size / advance` of them.
    case hopping(size: TimeSpan, advance: TimeSpan)
    /// Bursts of activity per key: a session grows while events come less than `gap` apart, and
    /// two sessions merge when an event bridges them.
    case session(gap: TimeSpan)

    public var description: String {
        switch self {
        case .tumbling(let size): "tumbling \(size)"
        case .hopping(let size, let advance): "hopping \(size) every \(advance)"
        case .session(let gap): "session gap \(gap)"
        }
    }
}

/// When a window's rows go downstream.
public enum EmitPolicy: Sendable, Hashable {
    /// After every batch that changed the window (upserts: right for read views). A late event
    /// within the allowed lateness updates the row again.
    case onUpdate
    /// Once, when the watermark passes the window's end plus the lateness (right for reports
    /// and append-only facts).
    case onClose
}
