import Foundation
import Runnel

/// Inputs for the report tests: a realistic hour of a small network, and text built to break
/// escaping.
enum ReportFixtures {
    /// 2026-01-05T13:00:00Z.
    static let hour = Date(timeIntervalSince1970: 1_767_618_000)
    static let services = ["feed-service", "messaging", "notifications", "profile-api", "search"]

    static func hoursAgo(_ hours: Int, minutes: Int = 0, seconds: Int = 0) -> Date {
        hour.addingTimeInterval(Double(-hours * 3_600 + minutes * 60 + seconds))
    }

    /// Text with everything HTML and Markdown care about, plus non-ASCII.
    static let nastyMessage = """
        Can't render <div class="card"> & "quoted" 'single' | pipe `tick` — Zürich 日本語 😀 \\| a\\b
        second line\twith tab
        """

    /// A ticket with reasonable defaults, to be adjusted per test.
    static func ticket(
        _ id: String, _ change: ExceptionReport.Ticket.Change, service: String = "feed-service", owner: String? = "feed-team",
        type: String = "java.lang.IllegalStateException", level: String = "ERROR", count: Int64 = 10,
        countsByHour: [Int64]? = nil, message: String = "Feed ranking timed out", trace: String = "at Feed.rank(Feed.java:42)"
    ) -> ExceptionReport.Ticket {
        ExceptionReport.Ticket(
            id: id, service: service, owner: owner, exceptionType: type, level: level,
            fingerprint: "fp-" + id, change: change, state: "open",
            firstSeen: change == .new ? hoursAgo(0, minutes: 7, seconds: 12) : hoursAgo(20, minutes: 3),
            lastSeen: hoursAgo(0, minutes: 58, seconds: 1), countLast24h: count,
            countsByHour: countsByHour ?? (Array(repeating: 0, count: 23) + [count]),
            sampleMessage: message, sampleStackTrace: trace
        )
    }

    /// Counts per service per hour: a steady base with a burst for `messaging` in the last hours.
    static func hourlyCounts(services: [String] = services) -> [ExceptionReport.ServiceHour] {
        var counts: [ExceptionReport.ServiceHour] = []
        for (serviceIndex, service) in services.enumerated() {
            for ago in 0..<24 {
                var count = Int64(3 + (ago * 37 + serviceIndex * 11) % 17 + serviceIndex * 4)
                if service == "messaging", ago < 3 { count += Int64(180 - ago * 50) }
                counts.append(.init(service: service, hour: hoursAgo(ago), count: count))
            }
        }
        return counts
    }

    static let javaTrace = """
        java.lang.NullPointerException: Cannot invoke "Member.getHeadline()" because "member" is null
        \tat com.example.messaging.ThreadRenderer.render(ThreadRenderer.java:118)
        \tat com.example.messaging.InboxController.lambda$inbox$0(InboxController.java:64)
        \tat java.base/java.util.stream.ReferencePipeline$3$1.accept(ReferencePipeline.java:197)
        \tat com.example.http.Router.dispatch(Router.java:212)
        """

    static let swiftTrace = """
        Fatal error: Unexpectedly found nil while unwrapping an Optional value
        0  profile-api  0x00005586c2a1 ProfileStore.load(id:) + 412 (ProfileStore.swift:88)
        1  profile-api  0x00005586c2b7 ProfileHandler.get(_:) + 96 (ProfileHandler.swift:31)
        2  profile-api  0x00005586c2f0 Router.handle<A>(_:) + 220 (Router.swift:140)
        """

    /// The example the lead looks at: two new tickets, one regressed, five ongoing.
    static var example: ExceptionReport {
        ExceptionReport(
            title: "sample professional network",
            hour: hour,
            tickets: [
                ticket("4102", .new, service: "messaging", owner: "messaging-oncall", type: "java.lang.NullPointerException",
                       count: 412, countsByHour: Array(repeating: 0, count: 21) + [0, 0, 412],
                       message: #"Cannot invoke "Member.getHeadline()" because "member" is null"#, trace: javaTrace),
                ticket("4107", .new, service: "profile-api", owner: nil, type: "Swift.FatalError", level: "FATAL", count: 3,
                       countsByHour: Array(repeating: 0, count: 23) + [3],
                       message: "Unexpectedly found nil while unwrapping an Optional value (member 42, \"Zoë Müller\")",
                       trace: swiftTrace),
                ticket("3988", .regressed, service: "search", owner: "search-relevance", type: "TimeoutException", level: "WARN", count: 57,
                       countsByHour: Array(repeating: 0, count: 20) + [0, 4, 18, 35],
                       message: "Query <title:\"staff engineer\" & location:Zürich> exceeded 800 ms",
                       trace: "TimeoutException: deadline exceeded after 800 ms\n  at SearchClient.query(SearchClient.kt:77)\n  at ```Backticks```.inside(Trace.kt:1)"),
                ticket("3120", .ongoing, service: "feed-service", owner: "feed-team", count: 240,
                       countsByHour: (0..<24).map { Int64(6 + ($0 * 7) % 9) }),
                ticket("2871", .ongoing, service: "notifications", owner: "growth", type: "SMTPException", level: "ERROR", count: 96,
                       countsByHour: (0..<24).map { Int64($0 % 6 == 0 ? 16 : 0) }),
                ticket("2650", .ongoing, service: "messaging", owner: nil, type: "java.io.IOException", level: "WARN", count: 31,
                       countsByHour: (0..<24).map { Int64($0 < 12 ? 2 : 1) + ($0 == 18 ? 1 : 0) }),
                ticket("2533", .ongoing, service: "profile-api", owner: "profile | identity", type: "ValidationError", level: "INFO", count: 8,
                       countsByHour: Array(repeating: 0, count: 16) + [1, 1, 1, 1, 1, 1, 1, 1]),
                ticket("1999", .ongoing, service: "search", owner: "search-infra", type: "CircuitBreakerOpen", level: "WARN", count: 2,
                       countsByHour: [1] + Array(repeating: 0, count: 22) + [1]),
            ],
            hourlyCounts: hourlyCounts(),
            typesByLevel: [
                .init(exceptionType: "java.lang.NullPointerException", level: "ERROR", count: 412),
                .init(exceptionType: "TimeoutException", level: "WARN", count: 35),
                .init(exceptionType: "java.lang.IllegalStateException", level: "ERROR", count: 14),
                .init(exceptionType: "SMTPException", level: "ERROR", count: 16),
                .init(exceptionType: "Swift.FatalError", level: "FATAL", count: 3),
                .init(exceptionType: "java.io.IOException", level: "WARN", count: 1),
                .init(exceptionType: "ValidationError", level: "INFO", count: 1),
                .init(exceptionType: "CircuitBreakerOpen", level: "WARN", count: 1),
                .init(exceptionType: "TimeoutException", level: "ERROR", count: 35),
            ]
        )
    }

    static var exampleDashboard: ExceptionDashboard {
        let report = example
        return ExceptionDashboard(
            title: report.title,
            hours: (0..<30).map { ExceptionReport(title: "", hour: hoursAgo($0), tickets: [], hourlyCounts: [], typesByLevel: []).fileStem },
            openTickets: report.tickets,
            hourlyCounts: report.hourlyCounts,
            latestHour: hour
        )
    }

    /// The same report with every array in another order, and some hourly counts split into
    /// two entries, one of them half an hour into the hour.
    static func reordered(_ report: ExceptionReport) -> ExceptionReport {
        var copy = report
        copy.tickets.reverse()
        copy.typesByLevel = Array(report.typesByLevel.reversed().dropFirst(2)) + report.typesByLevel.reversed().prefix(2)
        let n = report.hourlyCounts.count
        copy.hourlyCounts = report.hourlyCounts.enumerated()
            .sorted { ($0.offset * 7_919) % n < ($1.offset * 7_919) % n }
            .flatMap { offset, entry -> [ExceptionReport.ServiceHour] in
                guard offset % 5 == 0, entry.count >= 2 else { return [entry] }
                var first = entry
                var second = entry
                first.count = entry.count / 2
                second.count = entry.count - first.count
                second.hour = entry.hour.addingTimeInterval(1_800)
                return [second, first]
            }
        return copy
    }
}
