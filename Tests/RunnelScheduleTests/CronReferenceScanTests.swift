import Foundation
import Runnel
import Testing

/// The field-by-field search against the slowest correct answer: a minute-by-minute walk over
/// real time, reading each minute's wall clock through `Calendar`, for many generated expressions
/// and starts around the 2026 daylight saving changes.
@Suite struct CronReferenceScanTests {
    /// Field choices with the values each selects; whether it is one plain value (fixed-time).
    private static let minuteChoices: [(text: String, values: Set<Int>, single: Bool)] = [
        ("*", Set(0...59), false), ("*/15", [0, 15, 30, 45], false), ("0", [0], true), ("30", [30], true),
        ("5,35", [5, 35], false), ("10-20", Set(10...20), false), ("59", [59], true),
    ]
    private static let hourChoices: [(text: String, values: Set<Int>, single: Bool)] = [
        ("*", Set(0...23), false), ("2", [2], true), ("1", [1], true), ("*/3", [0, 3, 6, 9, 12, 15, 18, 21], false),
        ("1-3", [1, 2, 3], false), ("0", [0], true), ("23", [23], true),
    ]
    /// Day-of-month and day-of-week pairs, with the rule they make together.
    private static let dayChoices: [(text: String, matches: @Sendable (_ day: Int, _ weekday: Int) -> Bool)] = [
        ("* *", { _, _ in true }),
        ("* mon-fri", { _, weekday in (1...5).contains(weekday) }),
        ("25-31 *", { day, _ in day >= 25 }),
        ("1,8 sun", { day, weekday in day == 1 || day == 8 || weekday == 0 }),
        ("*/2 7", { day, weekday in day % 2 == 1 && weekday == 0 }),
    ]

    private static let starts = [
        "2026-03-27T22:13:00Z", "2026-03-29T00:59:00Z", "2026-03-29T00:30:30Z", "2026-10-24T23:00:00Z",
        "2026-10-25T00:00:00Z", "2026-10-25T00:45:00Z", "2026-10-25T01:20:00Z", "2026-03-07T23:55:00Z",
        "2026-03-08T06:30:00Z", "2026-10-31T22:00:00Z", "2026-11-01T05:15:00Z", "2026-11-01T06:30:00Z",
    ]

    @Test(arguments: ["UTC", "Europe/Berlin", "America/New_York"])
    func everyGeneratedExpressionAgreesWithAMinuteByMinuteScan(_ zoneName: String) throws {
        let zone = try #require(TimeZone(identifier: zoneName))
        var generator = SeededGenerator(seed: 2026)
        var compared = 0
        for _ in 0..<60 {
            let minute = Self.minuteChoices[generator.below(Self.minuteChoices.count)]
            let hour = Self.hourChoices[generator.below(Self.hourChoices.count)]
            let days = Self.dayChoices[generator.below(Self.dayChoices.count)]
            let text = "\(minute.text) \(hour.text) \(days.text.split(separator: " ")[0]) * \(days.text.split(separator: " ")[1])"
            let expression = try CronExpression(text)
            let start = CronTestDates.instant(Self.starts[generator.below(Self.starts.count)])
            let reference = Self.scan(
                after: start, in: zone, fixedTime: minute.single && hour.single,
                matches: { wall in
                    minute.values.contains(wall.minute) && hour.values.contains(wall.hour) && days.matches(wall.day, wall.weekday)
                })
            let next = expression.nextFireTime(after: start, in: zone)
            guard reference != nil else {
                // Past the scan's reach: the search must not have found anything sooner.
                #expect(next.map { $0 >= start.addingTimeInterval(Self.scanSeconds - 60) } ?? true, "\"\(text)\"")
                continue
            }
            #expect(CronTestDates.text(next, in: zone) == CronTestDates.text(reference, in: zone),
                    "\"\(text)\" after \(CronTestDates.text(start, in: zone))")
            compared += 1
        }
        // Most expressions fire within the scan's reach, so the comparison is not empty.
        #expect(compared >= 50)
    }

    /// How far the reference scan walks.
    private static let scanSeconds: Double = 10 * 86_400

    /// A wall-clock minute's fields.
    private struct Wall {
        var minute: Int
        var hour: Int
        var day: Int
        var weekday: Int
    }

    /// Vixie cron's behaviour stated over real time: an entry that follows real time fires at each
    /// minute whose wall clock it matches; a fixed-time entry fires at the first minute the wall
    /// clock reaches or jumps past a time it matches, and never for a wall time it already passed.
    private static func scan(after start: Date, in zone: TimeZone, fixedTime: Bool, matches: (Wall) -> Bool) -> Date? {
        var wallCalendar = Calendar(identifier: .gregorian)
        wallCalendar.timeZone = .gmt
        func wallSeconds(_ instant: Double) -> Double {
            instant + Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: instant)))
        }
        func wall(atWallSeconds seconds: Double) -> Wall {
            let parts = wallCalendar.dateComponents([.minute, .hour, .day, .weekday], from: Date(timeIntervalSince1970: seconds))
            return Wall(minute: parts.minute!, hour: parts.hour!, day: parts.day!, weekday: parts.weekday! - 1)
        }
        let firstMinute = (start.timeIntervalSince1970 / 60).rounded(.down) * 60
        // The highest wall time seen so far, from a few hours back, so a repeated hour is known.
        var highWater = -Double.infinity
        var instant = firstMinute - 4 * 3_600
        while instant <= firstMinute {
            highWater = max(highWater, wallSeconds(instant))
            instant += 60
        }
        while instant < firstMinute + scanSeconds {
            let now = wallSeconds(instant)
            var fires = false
            if fixedTime {
                var candidate = max(highWater + 60, now - 3 * 3_600)
                while candidate <= now, !fires {
                    fires = matches(wall(atWallSeconds: candidate))
                    candidate += 60
                }
            } else {
                fires = matches(wall(atWallSeconds: now))
            }
            highWater = max(highWater, now)
            if fires { return Date(timeIntervalSince1970: instant) }
            instant += 60
        }
        return nil
    }
}
