import Foundation
import Runnel
import RunnelTesting

/// A small application for the tickets tests: its exception event, owned by a fixed owner per
/// service, and a tickets pipeline over it.
struct ShopException: Codable, Sendable {
    var service: String
    var host: String
    var level: String
    var exceptionType: String
    var message: String
    var stackTrace: String
    var occurredAt: Date
    var version: String?
}

enum TicketPipelineFixtures {
    static let topic = "shop-exceptions"
    static let owners = ["checkout": ["pay-team@example.com", "oncall@example.com"], "search": ["search@example.com"]]
    /// 2026-01-05T00:00:00Z.
    static let day = Date(timeIntervalSince1970: 1_767_571_200)

    static func tickets(baseline: TimeSpan = .days(7), lateness: TimeSpan = .minutes(5)) -> ExceptionTickets {
        ExceptionTickets(topic: topic, inAppPrefixes: ["com.shop."], baseline: baseline, lateness: lateness) {
            Source(topic, as: ShopException.self, time: \.occurredAt).map { exception in
                ExceptionOccurrence(service: exception.service, host: exception.host, level: exception.level, exceptionType: exception.exceptionType,
                                    message: exception.message, stackTrace: exception.stackTrace, occurredAt: exception.occurredAt,
                                    version: exception.version, owners: owners[exception.service] ?? [])
            }
        }
    }

    /// A JVM trace through `frames` (in-app or not), with line numbers.
    static func trace(_ frames: [String], line: Int = 10) -> String {
        frames.enumerated().map { index, frame in "\tat \(frame)(\(frame.split(separator: ".").dropLast().last ?? "X").java:\(line + index))" }
            .joined(separator: "\n")
    }

    static let timeoutTrace = ["com.shop.pay.Gateway.charge", "com.shop.pay.Checkout.submit", "java.lang.Thread.run"]
    static let nullTrace = ["com.shop.search.Ranker.score", "com.shop.search.Api.query", "java.lang.Thread.run"]

    static func exception(_ service: String = "checkout", type: String = "java.util.concurrent.TimeoutException", message: String = "Timed out after 150 ms",
                          frames: [String] = timeoutTrace, line: Int = 10, host: String = "web-1", level: String = "error",
                          at minutes: Double, version: String? = nil) -> ShopException {
        ShopException(service: service, host: host, level: level, exceptionType: type, message: message, stackTrace: trace(frames, line: line),
                      occurredAt: day.addingTimeInterval(minutes * 60), version: version)
    }
}

extension PipelineTestDriver {
    /// Sends an exception keyed by its service, as the tickets pipeline expects.
    func send(_ exception: ShopException, partitions: Int = 2) throws {
        try send(exception, to: TicketPipelineFixtures.topic, key: exception.service, at: exception.occurredAt, partitions: partitions)
    }

    /// Sends a resolution keyed by its service, as `runnel tickets resolve` writes it.
    func send(_ resolution: TicketResolved, partitions: Int = 2) throws {
        try send(resolution, to: TicketPipelineFixtures.topic, key: resolution.service, type: ExceptionTickets.resolvedType,
                 at: resolution.resolvedAt, partitions: partitions)
    }
}
