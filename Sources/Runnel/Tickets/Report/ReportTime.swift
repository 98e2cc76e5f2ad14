import Foundation

/// UTC times as the reports print them, worked out from whole seconds with calendar arithmetic,
/// so no formatter, locale, time-zone database or clock is involved.
enum ReportTime {
    static let secondsPerHour: Int64 = 3_600
    private static let secondsPerDay: Int64 = 86_400
    /// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: dates beyond are clamped, so a year
    /// always has four digits and no arithmetic overflows.
    private static let earliest: Int64 = -62_167_219_200
    private static let latest: Int64 = 253_402_300_799

    /// Whole seconds since 1970, rounded down, within years 0000–9999. Goes through whole
    /// milliseconds so that a time a hair below a whole second (floating-point arithmetic on a
    /// `Date`) counts as that second rather than the one before, and so stays in its hour.
    static func seconds(_ date: Date) -> Int64 {
        let interval = date.timeIntervalSince1970
        guard interval.isFinite else { return interval > 0 ? latest : earliest }
        guard interval > Double(earliest), interval < Double(latest) else {
            return interval > 0 ? latest : earliest
        }
        return floorDivide(date.millisecondsSince1970, by: 1_000)
    }

    /// The start of the hour holding `date`, in seconds since 1970.
    static func hourStart(of date: Date) -> Int64 {
        floorDivide(seconds(date), by: secondsPerHour) * secondsPerHour
    }

    /// `2026-01-05T13:07:42Z`.
    static func iso8601(_ date: Date) -> String {
        iso8601(seconds: seconds(date))
    }

    /// `2026-01-05T13:07:42Z`.
    static func iso8601(seconds: Int64) -> String {
        let (day, second) = split(seconds)
        return day + "T" + pad(second / 3_600) + ":" + pad(second / 60 % 60) + ":" + pad(second % 60) + "Z"
    }

    /// `2026-01-05T13`, the file stem of the hour starting at `hourStart`.
    static func fileStem(hourStart: Int64) -> String {
        let (day, second) = split(hourStart)
        return day + "T" + pad(second / 3_600)
    }

    /// The start of the hour a file stem names, in seconds since 1970: the inverse of
    /// ``fileStem(hourStart:)``. `nil` for anything but `YYYY-MM-DDTHH` with a real date and an
    /// hour of 00–23, so a stray file in the reports folder is never taken for a report.
    static func hourStart(fileStem stem: String) -> Int64? {
        let bytes = Array(stem.utf8)
        guard bytes.count == 13, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
              (1...12).contains(month), (1...CronCivilDate.daysInMonth(year: year, month: month)).contains(day), hour < 24
        else { return nil }
        let dayNumber = Int64(CronCivilDate(year: year, month: month, day: day).dayNumber)
        return dayNumber * secondsPerDay + Int64(hour) * secondsPerHour
    }

    /// `2026-01-05`.
    static func day(seconds: Int64) -> String {
        split(seconds).day
    }

    /// `13:00`, the hour and minute of the day.
    static func clock(seconds: Int64) -> String {
        let second = split(seconds).second
        return pad(second / 3_600) + ":" + pad(second / 60 % 60)
    }

    /// The date as `YYYY-MM-DD` and the seconds into that day.
    private static func split(_ seconds: Int64) -> (day: String, second: Int) {
        let clamped = min(max(seconds, earliest), latest)
        let dayNumber = floorDivide(clamped, by: secondsPerDay)
        let date = CronCivilDate(dayNumber: Int(dayNumber))
        let day = pad(date.year, width: 4) + "-" + pad(date.month) + "-" + pad(date.day)
        return (day, Int(clamped - dayNumber * secondsPerDay))
    }

    private static func floorDivide(_ value: Int64, by divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }

    private static func pad(_ value: Int, width: Int = 2) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
