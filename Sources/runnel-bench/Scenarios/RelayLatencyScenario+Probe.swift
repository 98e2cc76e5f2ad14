import Foundation
import GRDB
import Runnel

/// When each event of one round was committed and when a reader first saw it, by event id
/// (outbox id on Runnel's side, table id on the baseline's), in nanoseconds of a monotonic clock.
final class LatencyProbe: @unchecked Sendable {
    // @unchecked: `times.committed` is written only by the writer and `times.seen`, `seenCount` and
    // `polls` only by the reader thread; the writer reads them after joining the reader.
    // `cancelled` is guarded by `lock`.
    /// The id of the round's first event.
    let firstID: Int64
    /// Events in the round.
    let count: Int
    private let times: EventTimes
    /// Distinct events seen so far.
    private(set) var seenCount = 0
    /// How long each of the reader's polls took.
    private(set) var polls = LatencyRecorder()
    private let lock = NSLock()
    private var cancelled = false

    private static let origin = ContinuousClock.now

    /// Nanoseconds since the first use of any probe, on the continuous clock.
    static func now() -> UInt64 {
        let origin = Self.origin  // set before reading the clock, on the very first call too
        return (ContinuousClock.now - origin).nanoseconds
    }

    init(firstID: Int64, count: Int) {
        self.firstID = firstID
        self.count = count
        times = EventTimes(count: count)
    }

    /// Records that event `index` of the round committed with id `id`, just now.
    /// - Throws: When ids are not consecutive from ``firstID`` (then latencies would be paired wrong).
    func committed(_ index: Int, id: Int64) throws {
        try times.committed(index, id: id, firstID: firstID, at: Self.now(), scenario: "relay-latency")
    }

    /// Records that the reader saw these ids at `time`, the first time it sees each.
    /// - Throws: For an id outside the round.
    func saw(_ ids: some Sequence<Int64>, at time: UInt64) throws {
        seenCount += try times.saw(ids, firstID: firstID, at: time, scenario: "relay-latency").new
    }

    /// Tells the reader to stop: the writer failed, so the events it waits for will never come.
    func cancel() {
        lock.withLock { cancelled = true }
    }

    /// Whether the writer failed.
    var isCancelled: Bool { lock.withLock { cancelled } }

    /// Records one poll's duration.
    func polled(_ duration: Duration) {
        polls.record(duration)
    }

    /// Each event's commit-to-seen latency.
    /// - Throws: When an event was never committed or never seen.
    func latencies() throws -> LatencyRecorder {
        try times.latencies { "relay-latency: event id \(firstID + Int64($0))" }
    }
}

extension RelayLatencyScenario {
    /// How long a reader waits after a poll that found nothing; after one that found something
    /// it polls again at once, until it has caught up.
    static let pollInterval: UInt32 = 1_000

    /// Runnel's reader, as a consumer in another process: a read-only log whose partition is
    /// refreshed before each poll, read from `offset` until it has seen every event of the round.
    static func followLog(_ logURL: URL, from offset: Int64, probe: LatencyProbe, deadline: UInt64) throws {
        var next = offset
        guard let partition = try Log.openForReading(logURL).topic(BenchEvent.topic)?.partitions.first else {
            throw BenchmarkError("relay-latency: the reader finds no topic \(BenchEvent.topic)")
        }
        while probe.seenCount < probe.count, !probe.isCancelled {
            let start = ContinuousClock.now
            try partition.refresh()
            let records = try partition.read(from: next)
            let now = LatencyProbe.now()
            probe.polled(ContinuousClock.now - start)
            try probe.saw(records.lazy.compactMap { $0.header(OutboxRelay.Header.outboxID).flatMap { Int64(String(decoding: $0, as: UTF8.self)) } }, at: now)
            if let last = records.last {
                next = last.offset + 1
            } else {
                guard now < deadline else { throw BenchmarkError("relay-latency: the log reader saw \(probe.seenCount) of \(probe.count) events in time") }
                usleep(pollInterval)
            }
        }
    }

    /// The baseline's reader, the simplest change data capture: a connection of its own polling
    /// `SELECT … WHERE id > ?` until it has seen every event of the round.
    static func followTable(_ connection: DatabaseQueue, after id: Int64, probe: LatencyProbe, deadline: UInt64) throws {
        var last = id
        while probe.seenCount < probe.count, !probe.isCancelled {
            let start = ContinuousClock.now
            let ids = try connection.read { db in
                var ids: [Int64] = []
                let rows = try Row.fetchCursor(db, sql: "SELECT id, payload FROM bench_events WHERE id > ? ORDER BY id", arguments: [last])
                while let row = try rows.next() {
                    let payload: String = row[1]
                    guard !payload.isEmpty else { throw BenchmarkError("relay-latency: event \(row[0] as Int64) has no payload") }
                    ids.append(row[0])
                }
                return ids
            }
            let now = LatencyProbe.now()
            probe.polled(ContinuousClock.now - start)
            try probe.saw(ids, at: now)
            if let newest = ids.last {
                last = newest
            } else {
                guard now < deadline else { throw BenchmarkError("relay-latency: the table reader saw \(probe.seenCount) of \(probe.count) events in time") }
                usleep(pollInterval)
            }
        }
    }

    /// Calls `commit` `count` times at `rate` a second, each at its due time (at once when
    /// late, so a slow commit delays the next ones but the pace then catches up).
    /// - Returns: The time from the first due time to the last commit's end.
    static func paced(_ count: Int, rate: Int, _ commit: (Int) throws -> Void) throws -> Duration {
        let interval = 1_000_000_000 / UInt64(rate)
        let start = LatencyProbe.now()
        for index in 0..<count {
            let due = start + UInt64(index) * interval
            let now = LatencyProbe.now()
            if due > now + 20_000 { usleep(UInt32((due - now) / 1_000)) }
            try commit(index)
        }
        return .nanoseconds(Int64(LatencyProbe.now() - start))
    }
}
