import Foundation
import Runnel
import Testing

/// Malformed expressions are refused with a `.schedule` error that says where and what to do.
@Suite struct CronParsingErrorTests {
    /// An expression with one bad field, and what its message must contain.
    struct Case: Sendable, CustomTestStringConvertible {
        var expression: String
        var fragments: [String]

        init(_ expression: String, _ fragments: String...) {
            self.expression = expression
            self.fragments = fragments
        }

        var testDescription: String { "\"\(expression)\"" }
    }

    static let fieldCases: [Case] = [
        Case("61 * * * *", "\"61\" in the minute field (column 1) is out of 0–59"),
        Case("* 24 * * *", "\"24\" in the hour field (column 2) is out of 0–23"),
        Case("* * 0 * *", "\"0\" in the day-of-month field (column 3) is out of 1–31"),
        Case("* * 32 * *", "\"32\" in the day-of-month field (column 3)", "1–31"),
        Case("* * * 13 *", "\"13\" in the month field (column 4) is out of 1–12 or JAN–DEC"),
        Case("* * * * 8", "\"8\" in the day-of-week field (column 5) is out of 0–7 or SUN–SAT"),
        Case("5-2 * * * *", "\"5-2\" in the minute field (column 1) is an empty range: 5 is after 2"),
        Case("* * * * fri-mon", "\"fri-mon\" in the day-of-week field (column 5) is an empty range"),
        Case("*/0 * * * *", "\"*/0\" in the minute field (column 1) has a step of 0"),
        Case("* 1-5/0 * * *", "\"1-5/0\" in the hour field (column 2) has a step of 0"),
        Case("* */25 * * *", "the hour field (column 2) has a step of 25"),
        Case("* * * */x *", "\"*/x\" in the month field (column 4) has a step \"x\" that is not a whole number"),
        Case("*/5/2 * * * *", "\"*/5/2\" in the minute field (column 1) has more than one step"),
        Case("x * * * *", "\"x\" in the minute field (column 1) is not a number"),
        Case("* * * foo *", "\"foo\" in the month field (column 4) is not a month name or a number"),
        Case("* * * * funday", "\"funday\" in the day-of-week field (column 5) is not a day name or a number"),
        Case("* * * * january", "\"january\" in the day-of-week field (column 5)"),
        Case("1,,2 * * * *", "\"1,,2\" in the minute field (column 1) has an empty list item"),
        Case("* 1- * * *", "\"1-\" in the hour field (column 2) is not a value"),
        Case("* * ? * *", "\"?\" in the day-of-month field (column 3) is not a value"),
        Case("* * * * 99999999999999999999999", "in the day-of-week field (column 5) is out of 0–7"),
    ]

    @Test(arguments: fieldCases)
    func aBadFieldIsNamedWithItsColumnAndWhatItAllows(_ row: Case) {
        let error = Self.error(parsing: row.expression)
        #expect(error?.code == .schedule)
        for fragment in row.fragments {
            #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "no error")")
        }
        #expect(error?.hint?.isEmpty == false)
    }

    @Test(arguments: [
        ("* * * *", "has 4 fields"),
        ("*", "has 1 field;"),
        ("0 0 * * * *", "has 6 fields"),
        ("0 0 * * * /usr/bin/backup", "no command"),
        ("", "the expression is empty"),
        ("   ", "the expression is empty"),
    ])
    func aWrongFieldCountSaysHowManyAndShowsTheShape(_ text: String, _ fragment: String) {
        let error = Self.error(parsing: text)
        #expect(error?.code == .schedule)
        #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "no error")")
        #expect(error?.message.contains("minute hour day-of-month month day-of-week") == true)
        #expect(error?.hint?.contains("*/15 * * * *") == true)
    }

    @Test func rebootIsRefusedAsUnsupported() {
        let error = Self.error(parsing: "@reboot")
        #expect(error?.code == .schedule)
        #expect(error?.message.contains("@reboot is not supported") == true)
        #expect(error?.hint?.contains("@daily") == true)
    }

    @Test func anUnknownMacroListsTheKnownOnes() {
        let error = Self.error(parsing: "@fortnightly")
        #expect(error?.message == "unknown macro \"@fortnightly\"")
        #expect(error?.hint?.contains("@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly") == true)
    }

    @Test func theDescriptionJoinsMessageAndHint() {
        let error = Self.error(parsing: "61 * * * *")
        #expect(error?.description == "\"61\" in the minute field (column 1) is out of 0–59. Use a value from 0 to 59")
    }

    private static func error(parsing text: String) -> RunnelError? {
        do {
            _ = try CronExpression(text)
            return nil
        } catch let error as RunnelError {
            return error
        } catch {
            return nil
        }
    }
}
