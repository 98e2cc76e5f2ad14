import Foundation

/// The next-fire search. It works on wall-clock minutes (minutes since 1970-01-01 00:00 of the
/// zone's local time), jumping field by field with the bitsets, and turns wall time into
/// instants one offset period at a time: between two of the zone's transitions the offset is
/// constant, so wall time and real time move together and the first match in the period is
/// the answer. Only at a transition do the daylight saving rules come in.
extension CronExpression {
    private static let minutesPerDay = 1_440
    /// How far back a fixed-time entry looks for an earlier occurrence of its wall time: more
    /// than any zone's fall-back (an hour almost everywhere, two at most).
    private static let repeatWindow: Double = 3 * 3_600
    /// Instants beyond this many seconds from 1970 (about 30 000 years) have no answer.
    private static let largestSeconds: Double = 1e12

    func nextFire(after date: Date, in timeZone: TimeZone) -> Date? {
        let after = date.timeIntervalSince1970
        guard after.isFinite, abs(after) < Self.largestSeconds else { return nil }
        var offset = timeZone.secondsFromGMT(for: date)
        // The first wall minute strictly after `date`.
        var from = Int(((after + Double(offset)) / 60).rounded(.down)) + 1
        let lastDay = Self.floorDivide(from, Self.minutesPerDay) + Self.searchYears * 366
        // From when the current offset is known to hold: `date`, then each transition passed.
        var periodStart = after
        var periodEnd = timeZone.nextDaylightSavingTimeTransition(after: date)?.timeIntervalSince1970
        while let wall = nextWallMinute(atOrAfter: from, lastDay: lastDay) {
            let instant = Double(wall * 60 - offset)
            if let end = periodEnd, instant >= end {
                // The match lies past the offset's period: go on in the next period.
                let endDate = Date(timeIntervalSince1970: end)
                let nextOffset = timeZone.secondsFromGMT(for: endDate)
                if isFixedTime, nextOffset > offset, Double(wall * 60) < end + Double(nextOffset) {
                    // The clocks jump over this wall time: a fixed-time entry fires right after.
                    return endDate
                }
                offset = nextOffset
                periodStart = end
                // At or after the transition; after a fall-back this is earlier wall time than
                // before, which is what repeats the hour for entries that follow real time.
                from = Int(((end + Double(offset)) / 60).rounded(.up))
                periodEnd = timeZone.nextDaylightSavingTimeTransition(after: endDate)?.timeIntervalSince1970
                continue
            }
            if isFixedTime, instant - Self.repeatWindow < periodStart,
               Self.wallTimeOccurredEarlier(wall, offset: offset, instant: instant, in: timeZone) {
                // The second copy of a repeated wall time: a fixed-time entry ran at the first.
                from = wall + 1
                continue
            }
            return Date(timeIntervalSince1970: instant)
        }
        return nil
    }

    /// Whether a wall time, found at `instant` under `offset`, also existed a little earlier
    /// under a larger offset (the first copy of an hour a fall-back repeats).
    private static func wallTimeOccurredEarlier(_ wall: Int, offset: Int, instant: Double, in timeZone: TimeZone) -> Bool {
        let earlierOffset = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: instant - repeatWindow))
        guard earlierOffset > offset else { return false }
        let earlier = Date(timeIntervalSince1970: Double(wall * 60 - earlierOffset))
        return timeZone.secondsFromGMT(for: earlier) == earlierOffset
    }

    /// The first wall minute at or after `start` that the fields choose, or nil past `lastDay`.
    ///
    /// Each pass either returns or moves to the start of a later hour, day or month, found with
    /// the bitsets, so a search costs a handful of steps per month it crosses.
    func nextWallMinute(atOrAfter start: Int, lastDay: Int) -> Int? {
        let startDay = Self.floorDivide(start, Self.minutesPerDay)
        let minuteOfDay = start - startDay * Self.minutesPerDay
        let startDate = CronCivilDate(dayNumber: startDay)
        let lastYear = CronCivilDate(dayNumber: lastDay).year
        var (year, month, day) = (startDate.year, startDate.month, startDate.day)
        var (hour, minute) = (minuteOfDay / 60, minuteOfDay % 60)
        while year <= lastYear {
            let laterMonths = months & (~0 << UInt64(month))
            guard laterMonths != 0 else {
                (year, month, day, hour, minute) = (year + 1, months.trailingZeroBitCount, 1, 0, 0)
                continue
            }
            let nextMonth = laterMonths.trailingZeroBitCount
            if nextMonth != month {
                (month, day, hour, minute) = (nextMonth, 1, 0, 0)
            }

            let laterDays = daysChosen(year: year, month: month) & (~0 << UInt64(day))
            guard laterDays != 0 else {
                (month, day, hour, minute) = month == 12 ? (1, 1, 0, 0) : (month + 1, 1, 0, 0)
                if month == 1 { year += 1 }
                continue
            }
            let nextDay = laterDays.trailingZeroBitCount
            if nextDay != day {
                (day, hour, minute) = (nextDay, 0, 0)
            }

            let laterHours = hours & (~0 << UInt64(hour))
            guard laterHours != 0 else {
                // Past the month's end, the day bitset finds nothing and moves to the next month.
                (day, hour, minute) = (day + 1, 0, 0)
                continue
            }
            let nextHour = laterHours.trailingZeroBitCount
            if nextHour != hour {
                (hour, minute) = (nextHour, 0)
            }

            let laterMinutes = minutes & (~0 << UInt64(minute))
            guard laterMinutes != 0 else {
                (hour, minute) = (hour + 1, 0)
                if hour == 24 { (day, hour) = (day + 1, 0) }
                continue
            }
            minute = laterMinutes.trailingZeroBitCount
            let dayNumber = CronCivilDate(year: year, month: month, day: day).dayNumber
            guard dayNumber <= lastDay else { return nil }
            return dayNumber * Self.minutesPerDay + hour * 60 + minute
        }
        return nil
    }

    /// Days 1 to 31 at bits 1 to 31, then again every 7 days: shifted by `d`, the days on the
    /// same weekday as day `1 + d`.
    private static let weeklyDays: UInt64 = 1 << 1 | 1 << 8 | 1 << 15 | 1 << 22 | 1 << 29 | 1 << 36

    /// The days of a month the day-of-month and day-of-week fields choose together, as a bitset.
    func daysChosen(year: Int, month: Int) -> UInt64 {
        let monthLength = CronCivilDate.daysInMonth(year: year, month: month)
        let daysInMonth: UInt64 = (1 << UInt64(monthLength + 1)) - 2
        let restrictBoth = dayOfMonthIsStar || dayOfWeekIsStar
        // `* *` or `N *`: the weekdays change nothing.
        if dayOfWeekIsStar, daysOfWeek == 0x7F { return daysOfMonth & daysInMonth }
        let firstWeekday = CronCivilDate.weekday(ofDayNumber: CronCivilDate(year: year, month: month, day: 1).dayNumber)
        var byWeekday: UInt64 = 0
        var weekdays = daysOfWeek
        while weekdays != 0 {
            let weekday = weekdays.trailingZeroBitCount
            weekdays &= weekdays - 1
            byWeekday |= Self.weeklyDays << UInt64((weekday - firstWeekday + 7) % 7)
        }
        return (restrictBoth ? daysOfMonth & byWeekday : daysOfMonth | byWeekday) & daysInMonth
    }

    static func floorDivide(_ value: Int, _ divisor: Int) -> Int {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }
}
