import Foundation
import GRDB

/// Where a saga instance is.
public enum SagaState: String, Sendable, CaseIterable, Codable {
    /// Sending its steps' commands and awaiting their replies.
    case running
    /// Undoing its completed steps, last first.
    case compensating
    /// Every step completed.
    case completed
    /// A step failed (or it was aborted) and every completed step was undone.
    case compensated
    /// A compensation was refused or unanswered on its last attempt: an operator must look
    /// (`runnel saga retry ID` sends it again).
    case failed

    /// Whether the instance is done: completed, compensated or failed.
    public var isFinished: Bool { self == .completed || self == .compensated || self == .failed }
}

/// One row of `runnel_sagas`, as the coordinator changes it.
struct SagaInstance {
    enum DeadlineKind: String {
        /// Awaiting a reply until the deadline.
        case reply
        /// Sending the command again at the deadline.
        case retry
    }

    var id: String
    var saga: String
    var state: SagaState
    var data: Data
    var version: Int
    /// The step in hand: running, the one awaiting its reply; compensating, the one being undone.
    var step: Int
    /// Forward steps completed in order.
    var completedSteps: Int
    /// A bit per step whose effect happened: completed in order, or completed late (after the
    /// saga gave up on it). These are the steps compensation undoes.
    var effectiveSteps: Int64
    /// A bit per step undone (or passed over, having no compensation).
    var undoneSteps: Int64
    var compensating: Bool
    var attempt: Int
    var awaiting: String?
    var deadline: Int64?
    var deadlineKind: DeadlineKind?
    var reason: String?
    var lastSeq: Int
    var startedAt: Int64
    var updatedAt: Int64
    var isNew = false

    static func load(_ id: String, in db: Database) throws -> SagaInstance? {
        // Columns by position: this runs for every reply, and a lookup by name costs more than
        // the rest of the row.
        let statement = try db.cachedStatement(sql: """
            SELECT id, saga, state, data, version, step, completed_steps, compensating, attempt, awaiting, deadline,
                   deadline_kind, reason, last_seq, started_at, updated_at, effective_steps, undone_steps
            FROM runnel_sagas WHERE id = ?
            """)
        guard let row = try Row.fetchOne(statement, arguments: [id]) else { return nil }
        return SagaInstance(
            id: row[0], saga: row[1], state: SagaState(rawValue: row[2]) ?? .failed, data: Data((row[3] as String).utf8),
            version: row[4], step: row[5], completedSteps: row[6], effectiveSteps: row[16], undoneSteps: row[17], compensating: row[7],
            attempt: row[8], awaiting: row[9], deadline: row[10],
            deadlineKind: (row[11] as String?).flatMap(DeadlineKind.init(rawValue:)), reason: row[12],
            lastSeq: row[13], startedAt: row[14], updatedAt: row[15])
    }

    func save(in db: Database) throws {
        let arguments: StatementArguments = [
            saga, state.rawValue, String(decoding: data, as: UTF8.self), version, step, completedSteps, effectiveSteps, undoneSteps,
            compensating, attempt, awaiting, deadline, deadlineKind?.rawValue, reason, lastSeq, startedAt, updatedAt, id,
        ]
        if isNew {
            try db.cachedStatement(sql: """
                INSERT INTO runnel_sagas (saga, state, data, version, step, completed_steps, effective_steps, undone_steps, compensating,
                                          attempt, awaiting, deadline, deadline_kind, reason, last_seq, started_at, updated_at, id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: arguments)
        } else {
            try db.cachedStatement(sql: """
                UPDATE runnel_sagas SET saga = ?, state = ?, data = ?, version = ?, step = ?, completed_steps = ?, effective_steps = ?,
                    undone_steps = ?, compensating = ?, attempt = ?, awaiting = ?, deadline = ?, deadline_kind = ?, reason = ?, last_seq = ?,
                    started_at = ?, updated_at = ?
                WHERE id = ?
                """).execute(arguments: arguments)
        }
    }
}

/// The kinds of entries in a saga's timeline (`runnel_saga_log.kind`).
public enum SagaLogKind: String, Sendable, CaseIterable {
    case started, command, reply, timeout, retry, compensation
    case compensationReply = "compensation-reply"
    case noCompensation = "no-compensation"
    case completed, compensated, failed, aborted, retried
    /// A second start event for an instance that exists.
    case duplicateStart = "duplicate-start"
    /// A reply to a command already answered.
    case duplicate
    /// A reply to a command the saga gave up on.
    case late
    /// A reply no command of the instance expects (an unknown instance, command or type).
    case unknown
}
