import Foundation
import GRDB
import Runnel

/// When each commit of one `relay-writers` session happened and when the log reader first saw
/// it, by outbox id, for a session whose length the writer decides: a closed-loop writer stops
/// at a time, not after a count, so the reader learns the count only when the writer finishes.
///
/// Room is made for ``capacity`` commits up front (recording costs a store); the writer calls
/// ``finish(count:)`` when it stops, and the reader follows until it has seen that many.
final class WriterSessionProbe: @unchecked Sendable {
    // @unchecked: `times.committed` is written only by the writer; `times.seen`, `seenCount`
    // and `duplicates` only by the reader thread; the writer reads them after joining the
    // reader. `finalCount` and `cancelled` are guarded by `lock`.
    /// The outbox id of the session's first commit.
    let firstID: Int64
    /// The most commits the session may make.
    let capacity: Int
    private let times: EventTimes
    /// Distinct commits seen in the log so far.
    private(set) var seenCount = 0
    /// Records seen in the log for a commit already seen: each is an event delivered twice.
    private(set) var duplicates = 0
    private let lock = NSLock()
    private var finalCount: Int?
    private var cancelled = false

    /// Makes room for a session's commits.
    /// - Parameters:
    ///   - firstID: The outbox id the session's first commit will get.
    ///   - capacity: The most commits the session may make.
    init(firstID: Int64, capacity: Int) {
        self.firstID = firstID
        self.capacity = capacity
        times = EventTimes(count: capacity)
    }

    /// Records that commit `index` of the session returned with id `id`, just now.
    /// - Throws: When ids are not consecutive from ``firstID`` (latencies would be paired wrong),
    ///   or the session outgrew its room.
    func committed(_ index: Int, id: Int64) throws {
        try times.committed(index, id: id, firstID: firstID, at: LatencyProbe.now(), scenario: "relay-writers")
    }

    /// Records that the reader saw these ids at `time`; a second sighting counts as a duplicate.
    /// - Throws: For an id outside the session.
    func saw(_ ids: some Sequence<Int64>, at time: UInt64) throws {
        let (new, again) = try times.saw(ids, firstID: firstID, at: time, scenario: "relay-writers")
        seenCount += new
        duplicates += again
    }

    /// Tells the reader how many commits the session made: it stops once it has seen them all.
    func finish(count: Int) {
        lock.withLock { finalCount = count }
    }

    /// The commits the session made, once the writer has finished.
    var count: Int? { lock.withLock { finalCount } }

    /// Tells the reader to stop: the writer failed, so the events it waits for will never come.
    func cancel() {
        lock.withLock { cancelled = true }
    }

    /// Whether the reader is done: every commit seen, or the writer failed.
    var isDone: Bool {
        lock.withLock { cancelled || finalCount.map { seenCount >= $0 } ?? false }
    }

    /// Each commit's commit-to-log latency.
    /// - Throws: When the writer has not finished, or a commit was never seen or seen twice.
    func latencies() throws -> LatencyRecorder {
        guard let count else { throw BenchmarkError("relay-writers: the session's writer never finished") }
        guard duplicates == 0, seenCount == count else {
            throw BenchmarkError("relay-writers: the reader saw \(seenCount) of \(count) commits, and \(duplicates) twice")
        }
        var recorder = LatencyRecorder()
        for index in 0..<count {
            let committed = times.committed[index], seen = times.seen[index]
            guard committed > 0, seen > 0 else {
                throw BenchmarkError("relay-writers: outbox id \(firstID + Int64(index)) was \(committed == 0 ? "never committed" : "never seen")")
            }
            // Seen a moment before the writer read the clock after its commit: no latency at all.
            recorder.record(.nanoseconds(max(0, Int64(seen) - Int64(committed))))
        }
        return recorder
    }
}

extension RelayWritersScenario {
    /// The log reader, as a consumer in another process: the log opened read-only once, its
    /// partition refreshed before each poll (as ``RelayLatencyScenario/followLog(_:from:probe:deadline:)``
    /// does), read from `offset` until every commit of the session is seen; it sleeps
    /// ``RelayLatencyScenario/pollInterval`` µs after an empty poll.
    static func followLog(_ logURL: URL, from offset: Int64, probe: WriterSessionProbe, deadline: UInt64) throws {
        var next = offset
        guard let partition = try Log.openForReading(logURL).topic(BenchEvent.topic)?.partitions.first else {
            throw BenchmarkError("relay-writers: the reader finds no topic \(BenchEvent.topic)")
        }
        while !probe.isDone {
            try partition.refresh()
            let records = try partition.read(from: next)
            let now = LatencyProbe.now()
            try probe.saw(records.lazy.compactMap { $0.header(OutboxRelay.Header.outboxID).flatMap { Int64(String(decoding: $0, as: UTF8.self)) } }, at: now)
            if let last = records.last {
                next = last.offset + 1
            } else {
                guard now < deadline else {
                    throw BenchmarkError("relay-writers: the log reader saw \(probe.seenCount) of \(probe.count.map(String.init) ?? "?") commits in time")
                }
                usleep(RelayLatencyScenario.pollInterval)
            }
        }
    }

    /// Calls `commit` until `seconds` have passed: back to back when `rate` is nil (the writer's
    /// maximum rate: each commit as soon as the previous one returns), else each at its due time
    /// at `rate` a second (at once when late, so a slow commit delays the next ones but the pace
    /// then catches up). A writer that cannot keep its pace stops at the same time as one that
    /// can, with fewer commits, so a session lasts the same whatever the rate it reaches.
    /// - Returns: The commits made, and the time from the start to the last commit's end.
    static func writeLoop(rate: Int?, for seconds: Double, _ commit: (Int) throws -> Void) throws -> (count: Int, span: Duration) {
        let start = LatencyProbe.now()
        let end = start + UInt64(seconds * 1e9)
        let interval = rate.map { 1_000_000_000 / UInt64($0) } ?? 0
        var count = 0
        var now = start
        while now < end {
            let due = start + UInt64(count) * interval
            guard due < end else { break }
            if due > now + 20_000 { usleep(UInt32((due - now) / 1_000)) }
            try commit(count)
            count += 1
            now = LatencyProbe.now()
        }
        return (count, .nanoseconds(Int64(now - start)))
    }

    /// One commit of either side: an ``BenchEvent`` appended with ``Outbox/append(_:in:)`` in a
    /// write transaction of its own, as an application announcing one change would.
    /// - Returns: The event's outbox id.
    static func commit(_ sequence: Int64, to store: Store) throws -> Int64 {
        let event = BenchEvent(sequence, sentAtNs: LatencyProbe.now())
        return try store.app.write { db in try store.outbox.append(event.outboxEvent, in: db) }
    }

    /// Checkpoints a database's WAL, untimed, so every session starts from an empty WAL: the
    /// baseline's deletes between sessions would otherwise hand a checkpoint to its next commits.
    static func checkpoint(_ store: Store) throws {
        try store.app.writeWithoutTransaction { db in _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)") }
    }

    /// Runs the writer on this thread while the relay (in a task) and the reader (on a thread of
    /// its own) run beside it; then waits for the reader to see every commit and stops the relay,
    /// which finishes the batch in hand first.
    /// - Returns: What the writer returned: its commits and how long it took.
    static func session(probe: WriterSessionProbe, relay: BackgroundTask, reader: BackgroundThread,
                        write: () throws -> (count: Int, span: Duration)) throws -> (count: Int, span: Duration) {
        let written = Result { try write() }
        switch written {
        case .success(let done): probe.finish(count: done.count)
        case .failure: probe.cancel()
        }
        let read = Result { try reader.join() }
        let stopped = Result { try relay.cancelAndJoin() }
        let result = try written.get()
        try read.get()
        try stopped.get()
        return result
    }
}
