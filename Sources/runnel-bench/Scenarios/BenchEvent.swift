import Foundation
import Runnel

/// The event of the relay and log-read scenarios: a member's activity, about 200 bytes of JSON
/// once ``Outbox`` encodes it (sorted keys, dates in milliseconds), the size the relay goal names
/// for relay figures.
struct BenchEvent: Codable, Sendable {
    var sequence: Int64
    var memberId: Int64
    var kind: String
    var page: String
    var dwellMs: Int64
    /// When the writer sent it (monotonic nanoseconds), for latency scenarios; 0 otherwise.
    var sentAtNs: UInt64
    var userAgent: String
    var at: Date

    static let topic = "member-activity"
    static let type = "ActivityRecorded"

    /// 2025-06-15T16:53:20Z: events happen from here on, 1 ms apart.
    private static let start = Date(timeIntervalSince1970: 1_750_006_400)

    /// The event numbered `sequence`; the same number gives the same event.
    init(_ sequence: Int64, sentAtNs: UInt64 = 0) {
        var random = SeededGenerator(seed: 0xE7E1_0000 &+ UInt64(bitPattern: sequence))
        self.sequence = sequence
        memberId = Int64(100_000 + random.below(900_000))
        kind = random.pick(BenchVocabulary.kinds)
        page = random.pick(BenchVocabulary.pages)
        dwellMs = Int64(random.below(60_000))
        self.sentAtNs = sentAtNs
        userAgent = random.pick(BenchVocabulary.userAgents)
        at = Self.start.addingTimeInterval(Double(sequence) / 1000)
    }

    /// The ordering key: the member.
    var key: String { String(memberId) }

    /// The event as the outbox takes it.
    var outboxEvent: OutboxEvent<BenchEvent> {
        OutboxEvent(topic: Self.topic, key: key, type: Self.type, payload: self, eventTime: at)
    }

    /// The JSON the outbox stores for it.
    func json() throws -> [UInt8] {
        Array(try Self.encoder.encode(self))
    }

    private static let encoder = Outbox.makeEncoder()
}

/// The words every scenario's activity events are made of, so their JSON has the same shape
/// and size.
enum BenchVocabulary {
    static let kinds = ["page_view", "click", "post", "reaction"]
    static let pages = ["/feed", "/jobs", "/messaging", "/notifications", "/mynetwork", "/search/results/people"]
    static let userAgents = [
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5) Mobile/15E148 Safari",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Version/17.5 Safari",
    ]
}
