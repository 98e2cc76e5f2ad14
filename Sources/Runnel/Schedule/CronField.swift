/// One of the five fields of a cron expression: its place, the values it allows and the names
/// it accepts, for parsing and for error messages.
enum CronField: Int, CaseIterable, Sendable {
    case minute = 1
    case hour
    case dayOfMonth
    case month
    case dayOfWeek

    /// The field's name in messages ("the minute field").
    var name: String {
        switch self {
        case .minute: "minute"
        case .hour: "hour"
        case .dayOfMonth: "day-of-month"
        case .month: "month"
        case .dayOfWeek: "day-of-week"
        }
    }

    /// The field's place in the expression, counted from 1.
    var column: Int { rawValue }

    /// The smallest value the field accepts.
    var minimum: Int {
        switch self {
        case .minute, .hour, .dayOfWeek: 0
        case .dayOfMonth, .month: 1
        }
    }

    /// The largest value the field accepts; 7 for the day of the week, which is Sunday again.
    var maximum: Int {
        switch self {
        case .minute: 59
        case .hour: 23
        case .dayOfMonth: 31
        case .month: 12
        case .dayOfWeek: 7
        }
    }

    /// The names the field accepts, lowercased, the first for value `nameBase`.
    var names: [String] {
        switch self {
        case .month: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        case .dayOfWeek: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
        case .minute, .hour, .dayOfMonth: []
        }
    }

    /// The value of the first name: January is 1, Sunday is 0.
    var nameBase: Int { self == .month ? 1 : 0 }

    /// What the field allows, as messages say it ("0–59", "1–12 or JAN–DEC").
    var allowed: String {
        switch self {
        case .month: "1–12 or JAN–DEC"
        case .dayOfWeek: "0–7 or SUN–SAT (0 and 7 are Sunday)"
        default: "\(minimum)–\(maximum)"
        }
    }

    /// Where a message points: `the minute field (column 1)`.
    var place: String { "the \(name) field (column \(column))" }
}
