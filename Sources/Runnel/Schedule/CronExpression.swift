import Foundation

/// A cron expression in Vixie cron's syntax, and the times it fires in a time zone.
///
/// Five fields, separated by spaces: minute (0–59), hour (0–23), day of the month (1–31), month
/// (1–12 or `JAN`–`DEC`) and day of the week (0–7 or `SUN`–`SAT`; 0 and 7 are Sunday). Each field
/// is `*`, a value, a range (`1-5`, `mon-fri`), a step (`*/15`, `10-50/20`, `5/10` for `5-59/10`)
/// or a comma-separated list of those. Names are case-insensitive. The macros `@yearly`
/// (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`) and `@hourly` stand for their
/// usual expressions.
///
/// Days follow Vixie cron's rule: when both the day-of-month and the day-of-week fields are
/// restricted (neither starts with `*`), a day matching either one fires, so `0 0 13 * fri`
/// fires on every 13th and on every Friday. When either starts with `*`, a day must match both.
///
/// Times are wall-clock times in the zone passed to ``nextFireTime(after:in:)``, and daylight
/// saving changes follow Vixie cron too:
/// - A *fixed-time* entry, whose minute and hour fields are each one plain value (`30 2 * * *`,
///   `@daily`), fires once a day whatever the clocks do: if a change skips its time it fires at
///   the first instant after the gap, and if a change repeats its time it fires at the first
///   occurrence only.
/// - Any other entry (`*/15 * * * *`, `0 * * * *`, `0 9-17 * * *`) follows real time: it fires
///   in both copies of a repeated hour and not at all in a skipped one.
///
/// ```swift
/// let nightly = try CronExpression("30 2 * * mon-fri")
/// let berlin = TimeZone(identifier: "Europe/Berlin")!
/// let next = nightly.nextFireTime(after: .now, in: berlin)
/// ```
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// The expression as given, without surrounding white space.
    let text: String
    /// Chosen values as bitsets: bit `v` is set when value `v` is chosen. Days of the month and
    /// months use bits 1–31 and 1–12; days of the week bits 0–6, Sunday 0.
    let minutes: UInt64
    let hours: UInt64
    let daysOfMonth: UInt64
    let months: UInt64
    let daysOfWeek: UInt64
    /// Whether the day-of-month or day-of-week field starts with `*`, which selects how the two
    /// combine (see the type's discussion).
    let dayOfMonthIsStar: Bool
    let dayOfWeekIsStar: Bool
    /// Whether the minute and hour fields are each one plain value, so daylight saving changes
    /// neither skip nor repeat the entry.
    let isFixedTime: Bool

    /// Parses an expression.
    /// - Parameter text: Five fields or a macro; white space around it is ignored.
    /// - Throws: ``RunnelError`` with code `.schedule` when the expression is malformed: the
    ///   message names the field, its column and what the field allows.
    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let fields = try Self.fields(of: trimmed)
        let minute = try Self.parse(fields[0], as: .minute)
        let hour = try Self.parse(fields[1], as: .hour)
        let dayOfMonth = try Self.parse(fields[2], as: .dayOfMonth)
        let month = try Self.parse(fields[3], as: .month)
        let dayOfWeek = try Self.parse(fields[4], as: .dayOfWeek)
        self.text = trimmed
        minutes = minute.bits
        hours = hour.bits
        daysOfMonth = dayOfMonth.bits
        months = month.bits
        daysOfWeek = dayOfWeek.bits
        dayOfMonthIsStar = fields[2].hasPrefix("*")
        dayOfWeekIsStar = fields[4].hasPrefix("*")
        isFixedTime = minute.isSingleValue && hour.isSingleValue
    }

    /// The expression as given, without surrounding white space.
    public var description: String { text }

    /// The first time the expression fires strictly after a date.
    /// - Parameters:
    ///   - date: The instant to search from; a fire time equal to it is not returned.
    ///   - timeZone: The zone whose wall clock the fields describe (UTC by default).
    /// - Returns: The fire time, or nil when the expression never fires (`0 0 30 2 *`) within
    ///   the next ``searchYears`` years.
    public func nextFireTime(after date: Date, in timeZone: TimeZone = .gmt) -> Date? {
        nextFire(after: date, in: timeZone)
    }

    /// The times the expression fires strictly after a date, in order, computed as the sequence
    /// is read.
    /// - Parameters:
    ///   - date: The instant to start after.
    ///   - timeZone: The zone whose wall clock the fields describe (UTC by default).
    /// - Returns: A sequence that ends only if the expression stops firing.
    public func fireTimes(after date: Date, in timeZone: TimeZone = .gmt) -> FireTimes {
        FireTimes(expression: self, start: date, timeZone: timeZone)
    }

    /// How far ahead a search looks before deciding an expression never fires. Long enough for
    /// the rarest real schedules (a February 29th across a century that skips its leap year, a
    /// date on one weekday), short enough that an impossible one answers at once.
    public static let searchYears = 50
}
