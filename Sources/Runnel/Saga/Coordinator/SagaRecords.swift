import Foundation
import GRDB

/// A saga instance as `runnel saga list` and `show` print it: a row of `runnel_sagas`.
public struct SagaInstanceRecord: Sendable, Hashable, Codable {
    public var id: String
    public var saga: String
    public var state: SagaState
    /// The step in hand (running: awaiting its reply; compensating: being undone), 0-based.
    public var step: Int
    public var completedSteps: Int
    public var attempt: Int
    /// The command id whose reply the instance awaits.
    public var awaiting: String?
    public var deadline: Date?
    /// Why it is compensating, compensated or failed.
    public var reason: String?
    /// The instance's data, as JSON.
    public var data: String
    public var version: Int
    public var startedAt: Date
    public var updatedAt: Date

    init(_ row: Row) {
        id = row["id"]
        saga = row["saga"]
        state = SagaState(rawValue: row["state"]) ?? .failed
        step = row["step"]
        completedSteps = row["completed_steps"]
        attempt = row["attempt"]
        awaiting = row["awaiting"]
        deadline = (row["deadline"] as Int64?).map(Date.init(millisecondsSince1970:))
        reason = row["reason"]
        data = row["data"]
        version = row["version"]
        startedAt = Date(millisecondsSince1970: row["started_at"])
        updatedAt = Date(millisecondsSince1970: row["updated_at"])
    }
}

/// One entry of a saga instance's timeline: a row of `runnel_saga_log`.
public struct SagaLogEntry: Sendable, Hashable, Codable {
    public var seq: Int
    public var at: Date
    /// The step it concerns, 0-based, when it concerns one.
    public var step: Int?
    /// What happened: `started`, `command`, `reply`, `timeout`, `retry`, `compensation`,
    /// `compensation-reply`, `no-compensation`, `completed`, `compensated`, `failed`, `aborted`,
    /// `retried`, `duplicate-start`, `duplicate`, `late` or `unknown` (see ``SagaLogKind``).
    public var kind: String
    public var commandID: String?
    /// The event type sent or received.
    public var type: String?
    public var detail: String?
}

/// Reads saga instances and their timelines from `app.sqlite`.
public enum SagaRecords {
    /// Instances, newest first, optionally of one saga and in one state, `limit` of them after
    /// skipping `offset`.
    public static func list(in db: Database, saga: String? = nil, state: SagaState? = nil, limit: Int = 100, offset: Int = 0) throws -> [SagaInstanceRecord] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let saga {
            conditions.append("saga = ?")
            _ = arguments.append(contentsOf: [saga])
        }
        if let state {
            conditions.append("state = ?")
            _ = arguments.append(contentsOf: [state.rawValue])
        }
        _ = arguments.append(contentsOf: [limit, offset])
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try Row.fetchAll(db, sql: "SELECT * FROM runnel_sagas \(filter) ORDER BY started_at DESC, id LIMIT ? OFFSET ?", arguments: arguments)
            .map(SagaInstanceRecord.init)
    }

    /// One instance.
    public static func instance(_ id: String, in db: Database) throws -> SagaInstanceRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM runnel_sagas WHERE id = ?", arguments: [id]).map(SagaInstanceRecord.init)
    }

    /// An instance's timeline, in order (also for ids with no instance: replies to them are
    /// recorded as `unknown`).
    public static func timeline(_ id: String, in db: Database) throws -> [SagaLogEntry] {
        try Row.fetchAll(db, sql: "SELECT * FROM runnel_saga_log WHERE saga_id = ? ORDER BY seq", arguments: [id]).map { row in
            SagaLogEntry(seq: row["seq"], at: Date(millisecondsSince1970: row["at"]), step: row["step"], kind: row["kind"],
                         commandID: row["command_id"], type: row["type"], detail: row["detail"])
        }
    }

    /// How many instances of a saga are in each state.
    public static func counts(of saga: String, in db: Database) throws -> [SagaState: Int] {
        try counts(in: db, saga: saga)
    }

    /// How many instances are in each state, of every saga or of one.
    public static func counts(in db: Database, saga: String? = nil) throws -> [SagaState: Int] {
        var counts: [SagaState: Int] = [:]
        // One saga's counts walk its part of the (saga, state) index; an OR of "any saga" would not.
        let rows = try saga.map { try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM runnel_sagas WHERE saga = ? GROUP BY state", arguments: [$0]) }
            ?? Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM runnel_sagas GROUP BY state")
        for row in rows {
            if let state = SagaState(rawValue: row["state"]) { counts[state] = row["n"] }
        }
        return counts
    }

    /// Instances of a saga whose deadline passed more than `grace` ago: a coordinator that is
    /// not running, or behind.
    public static func overdue(of saga: String, now: Date, grace: Duration = .seconds(60), in db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM runnel_sagas WHERE saga = ? AND deadline IS NOT NULL AND deadline < ?",
                         arguments: [saga, now.millisecondsSince1970 - grace.wholeMilliseconds]) ?? 0
    }
}
