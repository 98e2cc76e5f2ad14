import Foundation
import GRDB
import Pipelines
import Runnel

/// What `window-aggregate`'s pipeline decodes from each `ActivityRecorded` payload: only the
/// three fields it uses. The payload has eight; a pipeline declares what it needs, and the
/// decoder skips the rest.
struct BenchActivity: Decodable, Sendable {
    var memberId: Int64
    var dwellMs: Int64
    var occurredAt: Date
}

/// The sample network's `ActivityRecorded` events (``ActivityRecorded``), made up
/// deterministically: 10,000 members, event times 3 ms apart on average and always increasing.
struct ActivityGenerator {
    static let members = 10_000
    /// 2025-06-15T16:53:20Z, in milliseconds.
    static let start: Int64 = 1_750_006_400_000


    private var random = SeededGenerator(seed: 0xAC71_0000_5EED)
    /// Events made so far.
    private(set) var made: Int64 = 0

    /// The next event: event `n` happens at `start + 3n + (0, 1 or 2)` ms, so times advance
    /// strictly and no event is late for a window with no lateness allowed.
    mutating func next() -> ActivityRecorded {
        defer { made += 1 }
        return ActivityRecorded(
            activityId: made + 1,
            memberId: Int64(100_000 + random.below(Self.members)),
            kind: random.pick(BenchVocabulary.kinds),
            page: random.pick(BenchVocabulary.pages),
            dwellMs: Int64(random.below(60_000)),
            userAgent: random.pick(BenchVocabulary.userAgents),
            isBot: random.chance(0.02),
            occurredAt: Date(millisecondsSince1970: Self.start + 3 * made + Int64(random.below(3))))
    }

    /// The JSON ``Outbox/makeEncoder()`` makes of an event (sorted keys, unescaped slashes, the
    /// date in milliseconds), built directly: encoding millions of events with `JSONEncoder`
    /// would make preparing the input take longer than the measurement.
    /// ``checkEncoding(count:)`` checks the two agree.
    static func json(_ event: ActivityRecorded) -> String {
        "{\"activityId\":\(event.activityId),\"dwellMs\":\(event.dwellMs),\"isBot\":\(event.isBot),\"kind\":\"\(event.kind)\","
            + "\"memberId\":\(event.memberId),\"occurredAt\":\(event.occurredAt.millisecondsSince1970),\"page\":\"\(event.page)\","
            + "\"userAgent\":\"\(event.userAgent)\"}"
    }

    /// Checks that ``json(_:)`` gives byte for byte what the outbox's encoder gives, for the
    /// first `count` events (which use every word of the vocabulary).
    static func checkEncoding(count: Int) throws {
        var generator = ActivityGenerator()
        let encoder = Outbox.makeEncoder()
        for _ in 0..<count {
            let event = generator.next()
            let expected = try encoder.encode(event)
            let built = json(event)
            guard Array(built.utf8) == Array(expected) else {
                throw BenchmarkError("window-aggregate: the hand-built JSON differs from the outbox's encoding:\n  \(built)\n  \(String(decoding: expected, as: UTF8.self))")
            }
        }
    }
}

extension WindowAggregateScenario {
    /// What filling put in the log and the baseline's table.
    struct Input: Sendable {
        var events: Int
        var payloadBytes: Int
        var logBytes: Int
    }

    /// Events generated, appended and inserted per step of the fill.
    private static let fillChunk = 100_000

    /// Appends `count` events to the partition, as the relay would (one batch per relay cycle of
    /// its default size, key = member, value = JSON, timestamp = event time, the relay's four
    /// headers), and inserts the same JSON into the baseline's `events` table when there is one.
    /// Not timed.
    static func fill(count: Int, into partition: PartitionLog, baseline: DatabaseQueue?, batchSize: Int) throws -> Input {
        var generator = ActivityGenerator()
        var payloadBytes = 0
        let source = RecordHeader(OutboxRelay.Header.source, DatabaseRole.app.rawValue)
        let type = RecordHeader(OutboxRelay.Header.type, eventType)
        let version = RecordHeader(OutboxRelay.Header.schemaVersion, "1")
        while generator.made < count {
            let chunk = min(fillChunk, count - Int(generator.made))
            var payloads: [String] = []
            payloads.reserveCapacity(chunk)
            var records: [LogRecord] = []
            records.reserveCapacity(batchSize)
            for _ in 0..<chunk {
                let event = generator.next()
                let payload = ActivityGenerator.json(event)
                payloadBytes += payload.utf8.count
                payloads.append(payload)
                records.append(LogRecord(
                    timestamp: event.occurredAt.millisecondsSince1970, key: Array(String(event.memberId).utf8), value: Array(payload.utf8),
                    headers: [RecordHeader(OutboxRelay.Header.outboxID, String(event.activityId)), source, type, version]))
                if records.count == batchSize {
                    try partition.append(records)
                    records.removeAll(keepingCapacity: true)
                }
            }
            if !records.isEmpty { try partition.append(records) }
            try partition.flush()
            try baseline?.write { db in
                let insert = try db.cachedStatement(sql: "INSERT INTO events (payload) VALUES (?)")
                for payload in payloads { try insert.execute(arguments: [payload]) }
            }
        }
        return Input(events: count, payloadBytes: payloadBytes, logBytes: partition.sizeInBytes)
    }

    /// A way to set SQLite up for one big aggregation, as a user might try.
    struct BaselineSetup: Sendable {
        var name: String
        var pragmas: [String]

        /// The set-ups tried, the default first.
        static let all = [
            BaselineSetup(name: "default (2 MiB cache, sorter spills to temporary files)", pragmas: []),
            BaselineSetup(name: "mmap", pragmas: ["PRAGMA mmap_size = 4294967296"]),
            BaselineSetup(name: "64 MiB cache", pragmas: ["PRAGMA cache_size = -65536"]),
            BaselineSetup(name: "512 MiB cache, temp_store = MEMORY, mmap",
                          pragmas: ["PRAGMA cache_size = -524288", "PRAGMA temp_store = MEMORY", "PRAGMA mmap_size = 4294967296"]),
        ]
    }

    /// Opens the baseline's database: plain SQLite through GRDB, committing as Runnel's
    /// databases do (WAL, `synchronous = FULL`), with a set-up's pragmas.
    static func openBaseline(at url: URL, setup: BaselineSetup) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
            for pragma in setup.pragmas { try db.execute(sql: pragma) }
        }
        return try DatabaseQueue(path: url.path, configuration: configuration)
    }

    /// Runs the baseline's query once with each set-up (not counted) and keeps the fastest.
    /// - Returns: The fastest set-up, a connection with it, and every set-up's time.
    static func fastestBaseline(at url: URL) throws -> (BaselineSetup, DatabaseQueue, [(setup: BaselineSetup, took: Duration)]) {
        var best: (BaselineSetup, DatabaseQueue, Duration)?
        var times: [(setup: BaselineSetup, took: Duration)] = []
        for setup in BaselineSetup.all {
            let queue = try openBaseline(at: url, setup: setup)
            let clock = ContinuousClock()
            let started = clock.now
            try queue.write { try $0.execute(sql: baselineSQL) }
            let took = clock.now - started
            try queue.write { try $0.execute(sql: "DROP TABLE result") }
            times.append((setup, took))
            if best.map({ took < $0.2 }) ?? true { best = (setup, queue, took) }
        }
        guard let (setup, queue, _) = best else { throw BenchmarkError("window-aggregate: no SQLite set-up to try") }
        return (setup, queue, times)
    }

    /// The baseline's whole job: the windowed count and sum, straight from the JSON with
    /// `json_extract`, into a table.
    static let baselineSQL = """
        CREATE TABLE result AS
        SELECT json_extract(payload, '$.memberId') AS member_id,
               (json_extract(payload, '$.occurredAt') / \(windowMilliseconds)) * \(windowMilliseconds) AS window_start,
               count(*) AS events,
               sum(json_extract(payload, '$.dwellMs')) AS dwell_ms
        FROM events
        GROUP BY 1, 2
        """

    /// Checks that the pipeline's view and a baseline's table hold the same
    /// (member_id, window_start, events, dwell_ms) rows, and that they count every event.
    /// - Parameter table: The baseline's result table.
    /// - Returns: The number of rows (member windows).
    /// - Throws: When they differ, with a few of the differing rows.
    static func checkSameAnswer(derived: URL, baseline: URL, table resultTable: String = "result", events: Int) throws -> Int {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: derived.path, configuration: configuration)
        return try queue.inDatabase { db in
            try db.execute(sql: "ATTACH DATABASE ? AS base", arguments: [baseline.path])
            defer { try? db.execute(sql: "DETACH DATABASE base") }
            let columns = "member_id, window_start, events, dwell_ms"
            let view = "SELECT \(columns) FROM main.\(viewName)"
            let table = "SELECT \(columns) FROM base.\(resultTable)"
            let viewRows = try Int.fetchOne(db, sql: "SELECT count(*) FROM main.\(viewName)") ?? 0
            let tableRows = try Int.fetchOne(db, sql: "SELECT count(*) FROM base.\(resultTable)") ?? 0
            let onlyInView = try Row.fetchAll(db, sql: "\(view) EXCEPT \(table) LIMIT 5")
            let onlyInTable = try Row.fetchAll(db, sql: "\(table) EXCEPT \(view) LIMIT 5")
            let viewEvents = try Int.fetchOne(db, sql: "SELECT coalesce(sum(events), 0) FROM main.\(viewName)") ?? 0
            guard viewRows == tableRows, onlyInView.isEmpty, onlyInTable.isEmpty, viewEvents == events else {
                throw BenchmarkError("window-aggregate: the pipeline's view (\(viewRows) rows, \(viewEvents) events) and the baseline's table \(resultTable) "
                    + "(\(tableRows) rows) differ; \(events) events went in. Only in the view: \(onlyInView.map(\.description)); "
                    + "only in the table: \(onlyInTable.map(\.description))")
            }
            return viewRows
        }
    }
}

/// The second SQLite baseline of `window-aggregate`: the JSON turned into typed columns first
/// (STORED generated columns), with a covering index on (member, window start, dwell time), so
/// the `GROUP BY` walks the index in order and sorts nothing. Ingest and query are timed apart.
enum TypedBaseline {
    static let table = "events_typed"
    static let resultTable = "result_typed"
    private static let window = WindowAggregateScenario.windowMilliseconds

    /// The time both steps took over the counted runs.
    struct Tally {
        var ingest: Duration = .zero
        var query: Duration = .zero
        var runs = 0

        mutating func add(_ run: (ingest: Duration, query: Duration)) {
            ingest += run.ingest
            query += run.query
            runs += 1
        }
    }

    static let dropSQL = "DROP TABLE IF EXISTS \(table); DROP TABLE IF EXISTS \(resultTable)"

    /// Ingests `events` into the typed table (index built after the rows, the faster order),
    /// then aggregates it into ``resultTable``.
    /// - Returns: How long each step took.
    static func run(in queue: DatabaseQueue) throws -> (ingest: Duration, query: Duration) {
        try queue.write { try $0.execute(sql: dropSQL) }
        let clock = ContinuousClock()
        let start = clock.now
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE \(table) (
                    payload TEXT NOT NULL,
                    member_id INTEGER GENERATED ALWAYS AS (json_extract(payload, '$.memberId')) STORED,
                    window_start INTEGER GENERATED ALWAYS AS ((json_extract(payload, '$.occurredAt') / \(window)) * \(window)) STORED,
                    dwell_ms INTEGER GENERATED ALWAYS AS (json_extract(payload, '$.dwellMs')) STORED);
                INSERT INTO \(table) (payload) SELECT payload FROM events;
                CREATE INDEX \(table)_window ON \(table) (member_id, window_start, dwell_ms);
                """)
        }
        let ingested = clock.now
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE \(resultTable) AS
                SELECT member_id, window_start, count(*) AS events, sum(dwell_ms) AS dwell_ms
                FROM \(table) GROUP BY member_id, window_start
                """)
        }
        return (ingested - start, clock.now - ingested)
    }
}
