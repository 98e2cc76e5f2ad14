import Foundation

extension Date {
    /// Milliseconds since 1970 (UTC), the unit of every Runnel timestamp column and of Kafka
    /// record timestamps.
    public var millisecondsSince1970: Int64 {
        Int64((timeIntervalSince1970 * 1000).rounded())
    }

    /// Creates a date from milliseconds since 1970 (UTC).
    public init(millisecondsSince1970 milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
