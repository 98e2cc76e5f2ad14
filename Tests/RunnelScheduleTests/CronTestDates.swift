import Foundation

/// Instants written as ISO 8601 strings with their offsets, so expected fire times read the way
/// a person checks them against a wall clock.
enum CronTestDates {
    /// The instant an ISO 8601 string names (`2026-03-29T03:00:00+02:00`, `2026-01-01T00:00:00Z`).
    static func instant(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        guard let date = formatter.date(from: text) else {
            preconditionFailure("not an ISO 8601 instant: \(text)")
        }
        return date
    }

    /// An instant written in a zone, for messages: `2026-03-29T03:00:00+02:00`.
    static func text(_ date: Date?, in timeZone: TimeZone = .gmt) -> String {
        guard let date else { return "nil" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = timeZone
        return formatter.string(from: date)
    }

    static let berlin = TimeZone(identifier: "Europe/Berlin")!
    static let newYork = TimeZone(identifier: "America/New_York")!
}
