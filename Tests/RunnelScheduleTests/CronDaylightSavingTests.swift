import Foundation
import Runnel
import Testing

/// Vixie cron's daylight saving rules, in Europe/Berlin (2026-03-29 02:00 → 03:00, 2026-10-25
/// 03:00 → 02:00) and America/New_York (2026-03-08 02:00 → 03:00, 2026-11-01 02:00 → 01:00):
/// fixed-time entries fire once a day, right after a gap or at the first copy of a repeated
/// time; other entries follow real time.
@Suite struct CronDaylightSavingTests {
    /// One row: an expression in a zone, a start, and the fire times expected after it, in order.
    struct Case: Sendable, CustomTestStringConvertible {
        var expression: String
        var zone: String
        var after: String
        var times: [String]

        init(_ expression: String, in zone: String, after: String, _ times: [String]) {
            self.expression = expression
            self.zone = zone
            self.after = after
            self.times = times
        }

        var testDescription: String { "\"\(expression)\" in \(zone) after \(after)" }
    }

    static let springForward: [Case] = [
        // Berlin: 02:00–02:59 does not exist on 2026-03-29.
        Case("30 2 * * *", in: "Europe/Berlin", after: "2026-03-28T12:00:00+01:00",
             ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]),
        Case("0 2 * * *", in: "Europe/Berlin", after: "2026-03-28T12:00:00+01:00",
             ["2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"]),
        Case("59 2 * * *", in: "Europe/Berlin", after: "2026-03-29T01:59:00+01:00",
             ["2026-03-29T03:00:00+02:00", "2026-03-30T02:59:00+02:00"]),
        Case("0 3 * * *", in: "Europe/Berlin", after: "2026-03-29T00:00:00+01:00",
             ["2026-03-29T03:00:00+02:00", "2026-03-30T03:00:00+02:00"]),
        Case("30 2 29 3 *", in: "Europe/Berlin", after: "2026-01-01T00:00:00+01:00",
             ["2026-03-29T03:00:00+02:00", "2027-03-29T02:30:00+02:00"]),
        Case("0 * * * *", in: "Europe/Berlin", after: "2026-03-29T00:30:00+01:00",
             ["2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"]),
        Case("*/15 * * * *", in: "Europe/Berlin", after: "2026-03-29T01:30:00+01:00",
             ["2026-03-29T01:45:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:15:00+02:00"]),
        // A list or range of hours follows real time: nothing in the skipped hour.
        Case("15,45 2 * * *", in: "Europe/Berlin", after: "2026-03-29T00:00:00+01:00",
             ["2026-03-30T02:15:00+02:00", "2026-03-30T02:45:00+02:00"]),
        Case("30 1-2 * * *", in: "Europe/Berlin", after: "2026-03-29T00:00:00+01:00",
             ["2026-03-29T01:30:00+01:00", "2026-03-30T01:30:00+02:00", "2026-03-30T02:30:00+02:00"]),
        // New York: 02:00–02:59 does not exist on 2026-03-08.
        Case("30 2 * * *", in: "America/New_York", after: "2026-03-07T12:00:00-05:00",
             ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]),
        Case("0 * * * *", in: "America/New_York", after: "2026-03-08T00:30:00-05:00",
             ["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"]),
        Case("*/15 * * * *", in: "America/New_York", after: "2026-03-08T01:40:00-05:00",
             ["2026-03-08T01:45:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:15:00-04:00"]),
    ]

    static let fallBack: [Case] = [
        // Berlin: 02:00–02:59 happens twice on 2026-10-25, first at +02:00, then at +01:00.
        Case("30 2 * * *", in: "Europe/Berlin", after: "2026-10-24T12:00:00+02:00",
             ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]),
        Case("30 2 * * *", in: "Europe/Berlin", after: "2026-10-25T02:45:00+02:00",
             ["2026-10-26T02:30:00+01:00"]),
        Case("30 2 * * *", in: "Europe/Berlin", after: "2026-10-25T02:10:00+01:00",
             ["2026-10-26T02:30:00+01:00"]),
        Case("0 2 * * *", in: "Europe/Berlin", after: "2026-10-25T00:00:00+02:00",
             ["2026-10-25T02:00:00+02:00", "2026-10-26T02:00:00+01:00"]),
        Case("0 3 * * *", in: "Europe/Berlin", after: "2026-10-25T00:00:00+02:00",
             ["2026-10-25T03:00:00+01:00", "2026-10-26T03:00:00+01:00"]),
        Case("0 * * * *", in: "Europe/Berlin", after: "2026-10-25T00:30:00+02:00",
             ["2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00",
              "2026-10-25T03:00:00+01:00"]),
        Case("*/15 * * * *", in: "Europe/Berlin", after: "2026-10-25T01:50:00+02:00",
             ["2026-10-25T02:00:00+02:00", "2026-10-25T02:15:00+02:00", "2026-10-25T02:30:00+02:00",
              "2026-10-25T02:45:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T02:15:00+01:00",
              "2026-10-25T02:30:00+01:00", "2026-10-25T02:45:00+01:00", "2026-10-25T03:00:00+01:00"]),
        Case("*/15 * * * *", in: "Europe/Berlin", after: "2026-10-25T02:50:00+02:00",
             ["2026-10-25T02:00:00+01:00", "2026-10-25T02:15:00+01:00"]),
        Case("30 1-2 * * *", in: "Europe/Berlin", after: "2026-10-25T00:00:00+02:00",
             ["2026-10-25T01:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00",
              "2026-10-26T01:30:00+01:00"]),
        // New York: 01:00–01:59 happens twice on 2026-11-01, first at -04:00, then at -05:00.
        Case("30 1 * * *", in: "America/New_York", after: "2026-10-31T12:00:00-04:00",
             ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]),
        Case("0 2 * * *", in: "America/New_York", after: "2026-11-01T00:00:00-04:00",
             ["2026-11-01T02:00:00-05:00", "2026-11-02T02:00:00-05:00"]),
        Case("0 * * * *", in: "America/New_York", after: "2026-11-01T00:30:00-04:00",
             ["2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"]),
        Case("*/15 * * * *", in: "America/New_York", after: "2026-11-01T01:40:00-04:00",
             ["2026-11-01T01:45:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T01:15:00-05:00",
              "2026-11-01T01:30:00-05:00", "2026-11-01T01:45:00-05:00", "2026-11-01T02:00:00-05:00"]),
    ]

    @Test(arguments: springForward)
    func aSkippedTimeFiresRightAfterTheGapOnlyForFixedTimeEntries(_ row: Case) throws {
        try Self.check(row)
    }

    @Test(arguments: fallBack)
    func aRepeatedTimeFiresOnceForFixedTimeEntriesAndTwiceForOthers(_ row: Case) throws {
        try Self.check(row)
    }

    @Test func aZoneWithoutDaylightSavingMatchesItsWallClock() throws {
        let tokyo = try #require(TimeZone(identifier: "Asia/Tokyo"))
        let next = try CronExpression("30 2 * * *").nextFireTime(after: CronTestDates.instant("2026-03-29T00:00:00+09:00"), in: tokyo)
        #expect(CronTestDates.text(next, in: tokyo) == "2026-03-29T02:30:00+09:00")
    }

    private static func check(_ row: Case) throws {
        let zone = try #require(TimeZone(identifier: row.zone))
        let expression = try CronExpression(row.expression)
        let times = expression.fireTimes(after: CronTestDates.instant(row.after), in: zone)
            .prefix(row.times.count).map { CronTestDates.text($0, in: zone) }
        #expect(times == row.times)
    }
}
