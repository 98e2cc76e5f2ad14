import Foundation
import Runnel
import Testing

/// Next fire times in UTC for each piece of the syntax, and what parsing keeps of the text.
@Suite struct CronExpressionTests {
    /// One row of the table: an expression, an instant to search after, and the fire time expected.
    struct Case: Sendable, CustomTestStringConvertible {
        var expression: String
        var after: String
        var next: String

        init(_ expression: String, after: String, next: String) {
            self.expression = expression
            self.after = after
            self.next = next
        }

        var testDescription: String { "\"\(expression)\" after \(after)" }
    }

    static let cases: [Case] = [
        // Steps, ranges with steps, a value with a step, lists.
        Case("*/15 * * * *", after: "2026-01-01T00:00:00Z", next: "2026-01-01T00:15:00Z"),
        Case("*/15 * * * *", after: "2026-01-01T00:07:30Z", next: "2026-01-01T00:15:00Z"),
        Case("*/15 * * * *", after: "2026-01-01T23:59:00Z", next: "2026-01-02T00:00:00Z"),
        Case("10-50/20 * * * *", after: "2026-01-01T10:31:00Z", next: "2026-01-01T10:50:00Z"),
        Case("10-50/20 * * * *", after: "2026-01-01T10:50:00Z", next: "2026-01-01T11:10:00Z"),
        Case("5/20 * * * *", after: "2026-01-01T10:46:00Z", next: "2026-01-01T11:05:00Z"),
        Case("0 6,18 * * *", after: "2026-01-01T07:00:00Z", next: "2026-01-01T18:00:00Z"),
        Case("0,30 9-10 * * *", after: "2026-01-01T10:30:00Z", next: "2026-01-02T09:00:00Z"),
        Case("0 9-17/2 * * mon-fri", after: "2026-01-02T17:00:00Z", next: "2026-01-05T09:00:00Z"),
        Case("59 23 31 12 *", after: "2026-12-31T23:59:00Z", next: "2027-12-31T23:59:00Z"),
        // February 29th and month ends.
        Case("0 0 29 2 *", after: "2026-01-01T00:00:00Z", next: "2028-02-29T00:00:00Z"),
        Case("0 0 29 2 *", after: "2028-02-29T00:00:00Z", next: "2032-02-29T00:00:00Z"),
        Case("0 0 29 2 *", after: "2096-03-01T00:00:00Z", next: "2104-02-29T00:00:00Z"),
        Case("0 0 31 * *", after: "2026-03-31T00:00:00Z", next: "2026-05-31T00:00:00Z"),
        Case("0 0 31 * *", after: "2026-07-31T00:00:00Z", next: "2026-08-31T00:00:00Z"),
        Case("0 0 30 * *", after: "2026-01-30T00:00:00Z", next: "2026-03-30T00:00:00Z"),
        // Day of month or day of week, when both are restricted; both, when either starts with `*`.
        Case("0 0 13 * fri", after: "2026-02-01T00:00:00Z", next: "2026-02-06T00:00:00Z"),
        Case("0 0 13 * fri", after: "2026-02-06T00:00:00Z", next: "2026-02-13T00:00:00Z"),
        Case("0 0 13 * fri", after: "2026-04-10T00:00:00Z", next: "2026-04-13T00:00:00Z"),
        Case("0 0 13 * fri", after: "2026-04-13T00:00:00Z", next: "2026-04-17T00:00:00Z"),
        Case("0 0 */2 * mon", after: "2026-01-01T00:00:00Z", next: "2026-01-05T00:00:00Z"),
        Case("0 0 */2 * mon", after: "2026-01-05T00:00:00Z", next: "2026-01-19T00:00:00Z"),
        Case("0 0 1 * *", after: "2026-01-01T00:00:00Z", next: "2026-02-01T00:00:00Z"),
        // Names, in any case, in ranges; 7 and 0 are both Sunday.
        Case("0 0 1 jan *", after: "2026-02-01T00:00:00Z", next: "2027-01-01T00:00:00Z"),
        Case("0 0 1 Jul-AUG *", after: "2026-07-01T00:00:00Z", next: "2026-08-01T00:00:00Z"),
        Case("30 8 * * MON-FRI", after: "2026-01-02T09:00:00Z", next: "2026-01-05T08:30:00Z"),
        Case("0 12 * * 7", after: "2026-01-01T00:00:00Z", next: "2026-01-04T12:00:00Z"),
        Case("0 12 * * 0", after: "2026-01-01T00:00:00Z", next: "2026-01-04T12:00:00Z"),
        Case("0 12 * * sun", after: "2026-01-01T00:00:00Z", next: "2026-01-04T12:00:00Z"),
        Case("0 0 * * 5-7", after: "2026-01-03T00:00:00Z", next: "2026-01-04T00:00:00Z"),
        Case("0 0 * * sat-sun", after: "2026-01-01T00:00:00Z", next: "2026-01-03T00:00:00Z"),
        Case("0 0 * * sat-sun", after: "2026-01-03T00:00:00Z", next: "2026-01-04T00:00:00Z"),
        // Every macro.
        Case("@yearly", after: "2026-06-01T00:00:00Z", next: "2027-01-01T00:00:00Z"),
        Case("@annually", after: "2026-06-01T00:00:00Z", next: "2027-01-01T00:00:00Z"),
        Case("@monthly", after: "2026-01-31T12:00:00Z", next: "2026-02-01T00:00:00Z"),
        Case("@weekly", after: "2026-01-01T00:00:00Z", next: "2026-01-04T00:00:00Z"),
        Case("@daily", after: "2026-01-01T00:00:00Z", next: "2026-01-02T00:00:00Z"),
        Case("@midnight", after: "2026-01-01T00:00:00Z", next: "2026-01-02T00:00:00Z"),
        Case("@hourly", after: "2026-01-01T10:59:59Z", next: "2026-01-01T11:00:00Z"),
        Case("@HOURLY", after: "2026-01-01T11:00:00Z", next: "2026-01-01T12:00:00Z"),
    ]

    @Test(arguments: cases)
    func theNextFireTimeIsTheFirstMatchStrictlyAfterTheStart(_ row: Case) throws {
        let expression = try CronExpression(row.expression)
        let next = expression.nextFireTime(after: CronTestDates.instant(row.after))
        #expect(CronTestDates.text(next) == row.next)
    }

    @Test func anImpossibleDateHasNoFireTimeAndAnswersAtOnce() throws {
        let clock = ContinuousClock()
        let start = clock.now
        for text in ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 31 feb *"] {
            let expression = try CronExpression(text)
            #expect(expression.nextFireTime(after: CronTestDates.instant("2026-01-01T00:00:00Z")) == nil)
            #expect(expression.nextFireTime(after: CronTestDates.instant("2026-01-01T00:00:00Z"), in: CronTestDates.berlin) == nil)
            #expect(Array(expression.fireTimes(after: CronTestDates.instant("2026-01-01T00:00:00Z"))).isEmpty)
        }
        #expect(clock.now - start < .seconds(1))
    }

    @Test func fireTimesListsTheNextTimesInOrder() throws {
        let expression = try CronExpression("0 0 13 * fri")
        let times = expression.fireTimes(after: CronTestDates.instant("2026-02-01T00:00:00Z")).prefix(5).map { CronTestDates.text($0) }
        #expect(times == [
            "2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z", "2026-02-27T00:00:00Z",
            "2026-03-06T00:00:00Z",
        ])
    }

    @Test func theDefaultZoneIsUTC() throws {
        let expression = try CronExpression("30 2 * * *")
        let start = CronTestDates.instant("2026-03-28T12:00:00Z")
        #expect(expression.nextFireTime(after: start) == expression.nextFireTime(after: start, in: TimeZone(identifier: "UTC")!))
        #expect(CronTestDates.text(expression.nextFireTime(after: start)) == "2026-03-29T02:30:00Z")
    }

    @Test func theDescriptionIsTheTextWithoutSurroundingSpace() throws {
        #expect(try CronExpression("  */5  *\t* * *\n").description == "*/5  *\t* * *")
        #expect(try CronExpression("@daily").description == "@daily")
        #expect(try CronExpression("0 0 * * 1") == CronExpression("0 0 * * 1"))
        #expect(try CronExpression("0 0 * * 1") != CronExpression("0 0 * * 2"))
    }

    @Test func macrosFireAsTheExpressionsTheyStandFor() throws {
        let pairs = [("@yearly", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"), ("@weekly", "0 0 * * 0"), ("@daily", "0 0 * * *"), ("@hourly", "0 * * * *")]
        let start = CronTestDates.instant("2026-05-17T13:45:00Z")
        for (macro, expansion) in pairs {
            let macroTimes = try CronExpression(macro).fireTimes(after: start, in: CronTestDates.berlin).prefix(3)
            let expansionTimes = try CronExpression(expansion).fireTimes(after: start, in: CronTestDates.berlin).prefix(3)
            #expect(Array(macroTimes) == Array(expansionTimes), "\(macro)")
        }
    }
}
