import Foundation
import GRDB
import Runnel

/// The event `nearline-latency` writes: about 200 bytes of JSON, numbered by `seq`.
struct NearlineEvent: Codable, Sendable {
    var writer: Int64
    var seq: Int64
    var memberId: Int64
    var kind: String
    var page: String
    var dwellMs: Int64
    var userAgent: String
    var at: Date

    static let topic = "nearline-activity"
    static let type = "ActivityRecorded"
    /// The only writer: the view's one row, whose `last_seq` the observer polls.
    static let writer: Int64 = 1


    /// Event `seq`, happening now.
    init(seq: Int64) {
        var random = SeededGenerator(seed: 0x2EA4_0000 &+ UInt64(bitPattern: seq))
        writer = Self.writer
        self.seq = seq
        memberId = Int64(100_000 + random.below(10_000))
        kind = random.pick(BenchVocabulary.kinds)
        page = random.pick(BenchVocabulary.pages)
        dwellMs = Int64(random.below(60_000))
        userAgent = random.pick(BenchVocabulary.userAgents)
        at = Date()
    }

    /// The JSON the outbox stores for it, which the baselines store too.
    func json() throws -> String {
        String(decoding: try Self.encoder.encode(self), as: UTF8.self)
    }

    private static let encoder = Outbox.makeEncoder()
}

/// What the pipeline decodes: the three fields it uses.
struct NearlineMark: Decodable, Sendable {
    var writer: Int64
    var seq: Int64
    var at: Date
}

/// When each event of one round and side was committed and when the observer first saw it in
/// the view, by `seq`, in nanoseconds of ``LatencyProbe/now()``.
final class VisibilityProbe: @unchecked Sendable {
    // @unchecked: `times.committed` is written only by the writer; `times.seen`, `seenThrough` and `polls`
    // only by the observer thread; the writer reads them after joining the observer.
    // `cancelled` is guarded by `lock`.
    /// The round's first `seq`.
    let firstSeq: Int64
    /// Events in the round.
    let count: Int
    private let times: EventTimes
    /// The largest `seq` of this round the observer has seen (`firstSeq - 1` before the first).
    private(set) var seenThrough: Int64
    /// How long each of the observer's polls took.
    private(set) var polls = LatencyRecorder()
    private let lock = NSLock()
    private var cancelled = false

    init(firstSeq: Int64, count: Int) {
        self.firstSeq = firstSeq
        self.count = count
        seenThrough = firstSeq - 1
        times = EventTimes(count: count)
    }

    /// The round's last `seq`.
    var lastSeq: Int64 { firstSeq + Int64(count) - 1 }

    /// Whether the observer has seen every event of the round.
    var isComplete: Bool { seenThrough >= lastSeq }

    /// Records that the events `seqs` committed at `time`.
    func committed(_ seqs: Range<Int64>, at time: UInt64) {
        for seq in seqs { times.committed[Int(seq - firstSeq)] = time }
    }

    /// Records that the view showed `last` as the largest `seq` at `time`: every event up to it
    /// is visible (one writer, one partition, so events reach the view in `seq` order).
    /// - Throws: For a `seq` past the round's last (the view is ahead of what was written).
    func sawThrough(_ last: Int64, at time: UInt64) throws {
        guard last <= lastSeq else {
            throw BenchmarkError("nearline-latency: the view shows seq \(last), past this round's last, \(lastSeq)")
        }
        while seenThrough < last {
            seenThrough += 1
            times.seen[Int(seenThrough - firstSeq)] = time
        }
    }

    /// Records one poll's duration.
    func polled(_ duration: Duration) {
        polls.record(duration)
    }

    /// Tells the observer to stop: the writer failed.
    func cancel() {
        lock.withLock { cancelled = true }
    }

    /// Whether the writer failed.
    var isCancelled: Bool { lock.withLock { cancelled } }

    /// Each event's commit-to-visible latency.
    /// - Throws: When an event was never committed or never seen.
    func latencies() throws -> LatencyRecorder {
        try times.latencies { "nearline-latency: event seq \(firstSeq + Int64($0))" }
    }
}

/// A flag one thread raises and another polls.
final class StopFlag: @unchecked Sendable {
    // @unchecked: `raised` is guarded by `lock`.
    private let lock = NSLock()
    private var raised = false

    func raise() { lock.withLock { raised = true } }
    var isRaised: Bool { lock.withLock { raised } }
}

extension NearlineLatencyScenario {
    /// How long the observer waits between polls of the view.
    static let observerInterval: UInt32 = 500
    /// How long the hand-rolled follower waits after a poll that found nothing.
    static let followerInterval: UInt32 = 1_000

    /// Commits `probe.count` events, ``eventsPerTransaction`` per transaction, at ``rate`` events
    /// a second, noting each event's commit time.
    /// - Parameters:
    ///   - commit: Commits the events numbered `seqs` in one transaction.
    ///   - commits: Where each transaction's duration goes.
    /// - Returns: The time from the first due time to the last commit's end.
    static func write(_ probe: VisibilityProbe, commits: inout LatencyRecorder, _ commit: (Range<Int64>) throws -> Void) throws -> Duration {
        let transactions = probe.count / eventsPerTransaction
        return try RelayLatencyScenario.paced(transactions, rate: rate / eventsPerTransaction) { index in
            let first = probe.firstSeq + Int64(index * eventsPerTransaction)
            let seqs = first..<first + Int64(eventsPerTransaction)
            let start = ContinuousClock.now
            try commit(seqs)
            commits.record(ContinuousClock.now - start)
            probe.committed(seqs, at: LatencyProbe.now())
        }
    }

    /// The observer, as a reader of the view in another process would be: polls
    /// `SELECT last_seq …` on a read-only connection every ``observerInterval`` until it has seen
    /// the round's last event.
    static func observe(_ connection: DatabaseQueue, view: String, probe: VisibilityProbe, deadline: UInt64) throws {
        let sql = "SELECT last_seq FROM \(view) WHERE writer = \(NearlineEvent.writer)"
        while !probe.isComplete, !probe.isCancelled {
            let start = ContinuousClock.now
            let last = try connection.read { try Int64.fetchOne($0, sql: sql) } ?? 0
            let now = LatencyProbe.now()
            probe.polled(ContinuousClock.now - start)
            if last > probe.seenThrough { try probe.sawThrough(last, at: now) }
            if !probe.isComplete {
                guard now < deadline else {
                    throw BenchmarkError("nearline-latency: the observer of \(view) saw \(probe.seenThrough - probe.firstSeq + 1) of \(probe.count) events in time")
                }
                usleep(observerInterval)
            }
        }
    }

    /// The hand-rolled nearline baseline: polls the app's `events` table for rows after the
    /// last it took (every ``followerInterval`` when idle), extracts writer and seq with
    /// `json_extract`, and upserts the latest seq per writer into the view in `derived.sqlite`,
    /// one fsynced transaction per poll that found rows; until `stop` is raised.
    static func follow(_ app: DatabaseQueue, into derived: DatabasePool, after firstID: Int64, stop: StopFlag) throws {
        var last = firstID
        while !stop.isRaised {
            let (latest, newest) = try app.read { db -> ([Int64: Int64], Int64?) in
                var latest: [Int64: Int64] = [:]
                var newest: Int64?
                let rows = try Row.fetchCursor(db, sql: """
                    SELECT id, json_extract(payload, '$.writer'), json_extract(payload, '$.seq') FROM events WHERE id > ? ORDER BY id
                    """, arguments: [last])
                while let row = try rows.next() {
                    let writer: Int64 = row[1]
                    let seq: Int64 = row[2]
                    latest[writer] = max(latest[writer] ?? seq, seq)
                    newest = row[0]
                }
                return (latest, newest)
            }
            guard let newest else {
                usleep(followerInterval)
                continue
            }
            try derived.write { db in
                let upsert = try db.cachedStatement(sql: """
                    INSERT INTO \(followerView) (writer, last_seq) VALUES (?, ?)
                    ON CONFLICT (writer) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)
                    """)
                for (writer, seq) in latest { try upsert.execute(arguments: [writer, seq]) }
            }
            last = newest
        }
    }
}
