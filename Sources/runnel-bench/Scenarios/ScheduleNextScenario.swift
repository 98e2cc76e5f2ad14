import Foundation
import Runnel

/// `schedule-next`: computing a cron expression's next fire time with ``CronExpression``, which
/// jumps field by field, against scanning forward minute by minute and matching each minute's
/// `Calendar` components (the goal: at least 50 times as many answers a second).
///
/// Both sides answer the same questions: a fixed mix of expressions, in UTC and in Europe/Berlin,
/// from seeded start instants across 2026, half of them within hours of Berlin's daylight saving
/// changes. The baseline keeps Vixie cron's daylight saving rules too (a fixed-time entry fires
/// once, right after a gap or at the first copy of a repeated time), and every answer of the two
/// sides must agree. `0 0 29 2 *` is left out of the mix: the scan would spend seconds on each
/// answer and the ratio would say only that.
///
/// Runnel's side takes about a microsecond an answer, too little to time once, so it answers each
/// round's questions ``runnelRepeats`` times; both figures are answers per second.
struct ScheduleNextScenario: Scenario {
    let name = "schedule-next"
    let summary = "next cron fire times, field-by-field search vs a minute-by-minute Calendar scan"
    let unit = "next/s"
    let goal = 50.0

    static let expressions = [
        "*/5 * * * *", "0 3 * * *", "30 2 * * 1-5", "0 0 1 * *", "15 10 13 * fri", "0 9-17/2 * * mon-fri", "@weekly",
        "0 * * * *",
    ]
    static let zoneNames = ["UTC", "Europe/Berlin"]
    static let runnelRepeats = 50

    /// How much one run does.
    struct Size {
        /// Counted rounds, each running both sides.
        var rounds: Int
        /// Start instants per round; each is asked of every expression in every zone.
        var startsPerRound: Int
    }

    /// The size of a quick or a full run: the scan takes about a millisecond an answer, 16
    /// answers a start, so a quick run takes a second or two and a full one under ten.
    static func size(quick: Bool) -> Size {
        quick ? Size(rounds: 2, startsPerRound: 24) : Size(rounds: 4, startsPerRound: 80)
    }

    /// One question: an expression (by index), a zone (by index) and a start.
    struct Question {
        var expression: Int
        var zone: Int
        var start: Date
    }

    func run(quick: Bool) throws -> SideBySideMeasurement {
        let size = Self.size(quick: quick)
        let expressions = try Self.expressions.map { try CronExpression($0) }
        let scanners = try Self.expressions.map { try MinuteScan($0) }
        let zones = try Self.zoneNames.map { name in
            guard let zone = TimeZone(identifier: name) else { throw BenchmarkError("\(self.name): no time zone \(name)") }
            return zone
        }
        let calendars = zones.map { zone in
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            return calendar
        }

        var runnelAnswers: [[Date?]] = []
        var baselineAnswers: [[Date?]] = []
        var questionsAsked: [[Question]] = []
        let interleaving = Interleaving(rounds: size.rounds, warmUpRounds: 1)
        let sides = try interleaving.run(
            input: { round in
                let questions = Self.questions(round: round, starts: size.startsPerRound, expressions: expressions.count, zones: zones.count)
                questionsAsked.append(questions)
                return questions
            },
            runnel: { questions, tally in
                var answers: [Date?] = []
                answers.reserveCapacity(questions.count)
                for repeatIndex in 0..<Self.runnelRepeats {
                    for question in questions {
                        let answer = tally.time {
                            expressions[question.expression].nextFireTime(after: question.start, in: zones[question.zone])
                        }
                        if repeatIndex == 0 { answers.append(answer) }
                    }
                }
                runnelAnswers.append(answers)
            },
            baseline: { questions, tally in
                var answers: [Date?] = []
                answers.reserveCapacity(questions.count)
                for question in questions {
                    answers.append(tally.time {
                        scanners[question.expression].nextFireTime(after: question.start, in: calendars[question.zone])
                    })
                }
                baselineAnswers.append(answers)
            })

        try checkSameAnswers(questionsAsked, runnelAnswers, baselineAnswers)
        let roundRatios = sides.roundRatios
        return SideBySideMeasurement(
            runnel: sides.runnel.rate,
            baseline: sides.baseline.rate,
            runnelLatency: sides.runnel.latency.summary,
            baselineLatency: sides.baseline.latency.summary,
            detail: [
                Figure("runnel_answers", sides.runnel.operations),
                Figure("baseline_answers", sides.baseline.operations),
                Figure("expressions", expressions.count),
                Figure("zones", zones.count),
                Figure("starts_per_round", size.startsPerRound),
                Figure("rounds", size.rounds),
                Figure("runnel_repeats", Self.runnelRepeats),
                Figure("round_ratio_min", roundRatios.min),
                Figure("round_ratio_max", roundRatios.max),
            ],
            note: "\(size.rounds) rounds × \(size.startsPerRound) starts × \(expressions.count) expressions × \(zones.count) zones "
                + "(UTC, Europe/Berlin), Runnel's side repeated ×\(Self.runnelRepeats); all answers agree; "
                + "round ratios \(FigureFormat.displayRatio(roundRatios.min))–\(FigureFormat.displayRatio(roundRatios.max))")
    }

    /// A round's questions: seeded starts, half anywhere in 2026 and half within six hours of
    /// Berlin's changes (2026-03-29 and 2026-10-25 at 01:00 UTC), each asked of every expression in every zone.
    static func questions(round: Int, starts: Int, expressions: Int, zones: Int) -> [Question] {
        var generator = SeededGenerator(seed: 0x5CED_0000 + UInt64(round))
        let yearStart = 1_767_225_600.0  // 2026-01-01T00:00:00Z
        let changes = [1_774_746_000.0, 1_792_890_000.0]
        var questions: [Question] = []
        for index in 0..<starts {
            let seconds = index.isMultiple(of: 2)
                ? yearStart + Double(generator.below(365 * 86_400))
                : changes[generator.below(2)] + Double(generator.below(12 * 3_600) - 6 * 3_600)
            for expression in 0..<expressions {
                for zone in 0..<zones {
                    questions.append(Question(expression: expression, zone: zone, start: Date(timeIntervalSince1970: seconds)))
                }
            }
        }
        return questions
    }

    private func checkSameAnswers(_ questions: [[Question]], _ runnel: [[Date?]], _ baseline: [[Date?]]) throws {
        guard questions.count == runnel.count, questions.count == baseline.count else {
            throw BenchmarkError("\(name): the sides ran \(runnel.count) and \(baseline.count) rounds of \(questions.count)")
        }
        for (round, roundQuestions) in questions.enumerated() {
            for (index, question) in roundQuestions.enumerated() where runnel[round][index] != baseline[round][index] {
                let show = { (date: Date?) in date.map { "\($0.timeIntervalSince1970)" } ?? "none" }
                throw BenchmarkError(
                    "\(name): \"\(Self.expressions[question.expression])\" in \(Self.zoneNames[question.zone]) after "
                        + "\(question.start.timeIntervalSince1970): Runnel says \(show(runnel[round][index])), "
                        + "the scan \(show(baseline[round][index]))")
            }
        }
    }
}

/// The baseline: the expression read into sets of values, then every minute after the start
/// checked in turn against its `Calendar` components in the zone.
private struct MinuteScan {
    private var fields: [Set<Int>] = []
    /// Vixie cron's day rule: with either day field starting with `*`, a day must match both.
    private var bothDays: Bool
    /// Minute and hour are plain values: fires once a day across daylight saving changes.
    private var fixedTime: Bool
    private static let macros = [
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@hourly": "0 * * * *", "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *",
    ]
    private static let names = [
        3: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        4: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    ]
    private static let bounds = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]

    init(_ text: String) throws {
        let parts = (Self.macros[text] ?? text).split(separator: " ").map(String.init)
        guard parts.count == 5 else { throw BenchmarkError("schedule-next: the baseline cannot read \"\(text)\"") }
        for (index, part) in parts.enumerated() {
            var values = Set<Int>()
            for item in part.split(separator: ",") {
                let pieces = item.split(separator: "/")
                let step = pieces.count > 1 ? Int(pieces[1]) ?? 1 : 1
                let ends = pieces[0] == "*" ? [Self.bounds[index].0, Self.bounds[index].1]
                    : pieces[0].split(separator: "-").map { Self.value(String($0), field: index) }
                let low = ends[0]
                let high = ends.count > 1 ? ends[1] : (pieces.count > 1 ? Self.bounds[index].1 : low)
                values.formUnion(stride(from: low, through: high, by: step).map { index == 4 ? $0 % 7 : $0 })
            }
            fields.append(values)
        }
        bothDays = parts[2].hasPrefix("*") || parts[4].hasPrefix("*")
        fixedTime = parts[0].allSatisfy(\.isNumber) && parts[1].allSatisfy(\.isNumber)
    }

    private static func value(_ text: String, field: Int) -> Int {
        if let number = Int(text) { return number }
        return (names[field]?.firstIndex(of: text.lowercased()) ?? 0) + (field == 3 ? 1 : 0)
    }

    private func matches(_ parts: DateComponents) -> Bool {
        guard let minute = parts.minute, let hour = parts.hour, let day = parts.day, let month = parts.month,
              let weekday = parts.weekday else { return false }
        guard fields[0].contains(minute), fields[1].contains(hour), fields[3].contains(month) else { return false }
        let dayMatches = fields[2].contains(day)
        let weekdayMatches = fields[4].contains(weekday - 1)
        return bothDays ? dayMatches && weekdayMatches : dayMatches || weekdayMatches
    }

    /// The first fire time strictly after `date`, scanning at most 400 days.
    func nextFireTime(after date: Date, in calendar: Calendar) -> Date? {
        let zone = calendar.timeZone
        var wallCalendar = calendar
        wallCalendar.timeZone = .gmt
        let components: Set<Calendar.Component> = [.minute, .hour, .day, .month, .weekday]
        func wall(_ instant: Double) -> Double {
            instant + Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: instant)))
        }
        let first = (date.timeIntervalSince1970 / 60).rounded(.down) * 60
        // The latest wall time already shown, from three hours back, to recognise a repeated hour.
        var highWater = -Double.infinity
        var instant = first - 3 * 3_600
        while instant <= first {
            highWater = max(highWater, wall(instant))
            instant += 60
        }
        while instant < first + 400 * 86_400 {
            let now = wall(instant)
            var fires = false
            if !fixedTime {
                fires = matches(calendar.dateComponents(components, from: Date(timeIntervalSince1970: instant)))
            } else if now == highWater + 60 {
                fires = matches(calendar.dateComponents(components, from: Date(timeIntervalSince1970: instant)))
            } else if now > highWater {
                // The clocks jumped forward: a fixed time in the gap fires now.
                var skipped = highWater + 60
                while skipped <= now, !fires {
                    fires = matches(wallCalendar.dateComponents(components, from: Date(timeIntervalSince1970: skipped)))
                    skipped += 60
                }
            }
            highWater = max(highWater, now)
            if fires { return Date(timeIntervalSince1970: instant) }
            instant += 60
        }
        return nil
    }
}
