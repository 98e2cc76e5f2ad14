import Foundation
import GRDB

/// A saga's rules, applied to one instance inside a transaction: what a start event, a reply,
/// a deadline or an operator's action does to it, the commands it sends and the timeline
/// entries it writes. The coordinator and the operator commands both go through it, so an
/// instance changes the same way whoever changes it.
struct SagaMachine {
    let saga: Saga
    let db: Database
    let now: Int64
    let outbox: Outbox
    /// What the calls did, for the batch's summary.
    var counts = SagaCoordinator.Summary()

    init(saga: Saga, db: Database, now: Date, outbox: Outbox) {
        self.saga = saga
        self.db = db
        self.now = now.millisecondsSince1970
        self.outbox = outbox
    }

    static func commandID(_ instance: String, step: Int, compensation: Bool) -> String {
        "\(instance)/\(step)/\(compensation ? "undo" : "do")"
    }

    // MARK: - Timeline

    mutating func note(_ instance: inout SagaInstance, _ kind: SagaLogKind, step: Int?, commandID: String? = nil, type: String? = nil, detail: String? = nil) throws {
        instance.lastSeq += 1
        try Self.insertLog(sagaID: instance.id, seq: instance.lastSeq, at: now, step: step, kind: kind, commandID: commandID, type: type, detail: detail, in: db)
    }

    /// An entry for a saga id no instance has (a reply to an unknown instance).
    func noteUnknown(sagaID: String, commandID: String?, type: String, detail: String) throws {
        let last = try Int.fetchOne(db.cachedStatement(sql: "SELECT MAX(seq) FROM runnel_saga_log WHERE saga_id = ?"), arguments: [sagaID]) ?? 0
        try Self.insertLog(sagaID: sagaID, seq: last + 1, at: now, step: nil, kind: .unknown, commandID: commandID, type: type, detail: detail, in: db)
    }

    private static func insertLog(sagaID: String, seq: Int, at: Int64, step: Int?, kind: SagaLogKind, commandID: String?, type: String?, detail: String?, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO runnel_saga_log (saga_id, seq, at, step, kind, command_id, type, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            .execute(arguments: [sagaID, seq, at, step, kind.rawValue, commandID, type, detail])
    }

    // MARK: - Start

    /// Starts an instance for a start event, or records a duplicate start.
    /// - Returns: The instance, new or existing.
    mutating func start(id: String, state: Data, existing: SagaInstance?, position: String) throws -> SagaInstance {
        if var existing {
            try note(&existing, .duplicateStart, step: nil, type: saga.startType, detail: "another start event for this instance at \(position): ignored")
            counts.duplicateStarts += 1
            return existing
        }
        // A reply to this id may have come before its start (recorded as `unknown`): the
        // timeline goes on after it.
        let logged = try Int.fetchOne(db.cachedStatement(sql: "SELECT MAX(seq) FROM runnel_saga_log WHERE saga_id = ?"), arguments: [id]) ?? 0
        var instance = SagaInstance(id: id, saga: saga.name, state: .running, data: state, version: 0, step: 0, completedSteps: 0,
                                    effectiveSteps: 0, undoneSteps: 0,
                                    compensating: false, attempt: 1, awaiting: nil, deadline: nil, deadlineKind: nil, reason: nil,
                                    lastSeq: logged, startedAt: now, updatedAt: now, isNew: true)
        try note(&instance, .started, step: nil, type: saga.startType, detail: "started by \(position)")
        counts.started += 1
        try send(&instance)
        return instance
    }

    // MARK: - Sending

    /// Sends the command in hand (the step's, or its compensation's when compensating) for the
    /// instance's current attempt, and sets the deadline for its reply.
    private mutating func send(_ instance: inout SagaInstance) throws {
        // An instance begun by an older definition of the saga may stand at a step, or need a
        // compensation, the saga no longer has: that needs a person, not a crash.
        guard instance.step < saga.steps.count else {
            try fail(&instance, reason: "the saga has no step \(instance.step + 1) any more (its definition changed while this instance ran)")
            return
        }
        let step = saga.steps[instance.step]
        let compensating = instance.compensating
        guard let command = compensating ? step.compensation : step.command else {
            try fail(&instance, reason: "step \(step.name) has no compensation any more (its definition changed while this instance ran)")
            return
        }
        let id = Self.commandID(instance.id, step: instance.step, compensation: compensating)
        instance.awaiting = id
        let envelope = SagaCommandEnvelope(sagaID: instance.id, headers: [
            SagaHeader.sagaID: instance.id, SagaHeader.commandID: id, SagaHeader.replyTo: saga.replyTopic, SagaHeader.attempt: "\(instance.attempt)",
        ], time: Date(millisecondsSince1970: now), outbox: outbox)
        do {
            try command.append(instance.data, envelope, db)
        } catch let error as DatabaseError {
            throw error
        } catch {
            // The command cannot be made from this state (its closure threw, or the outbox
            // refused it): that will not change on a retry. A step fails; a compensation
            // leaves the instance failed for an operator.
            let why = "\(command.type) could not be sent: \(error)"
            try note(&instance, compensating ? .compensation : .command, step: instance.step, commandID: id, type: command.type, detail: why)
            if compensating {
                try fail(&instance, reason: "the compensation of step \(step.name) failed: \(why)")
            } else {
                try beginCompensation(&instance, reason: "step \(step.name) failed: \(why)")
            }
            return
        }
        try note(&instance, compensating ? .compensation : .command, step: instance.step, commandID: id, type: command.type,
                 detail: instance.attempt > 1 ? "attempt \(instance.attempt)" : nil)
        if compensating { counts.compensationsSent += 1 } else { counts.commandsSent += 1 }
        if compensating, step.compensationCompletions.isEmpty {
            // Nothing to await: the compensation is done once sent.
            instance.undoneSteps |= 1 << Int64(instance.step)
            try compensateNext(&instance)
            return
        }
        instance.deadline = now + (compensating ? step.compensationTimeout : step.timeout).wholeMilliseconds
        instance.deadlineKind = .reply
    }

    /// Undoes the next step whose effect happened and is not undone yet, the latest first;
    /// ends the instance `compensated` when none is left. A step without a compensation is
    /// passed over and recorded.
    private mutating func compensateNext(_ instance: inout SagaInstance) throws {
        var index = saga.steps.count - 1
        while index >= 0 {
            let bit: Int64 = 1 << Int64(index)
            if instance.effectiveSteps & bit != 0, instance.undoneSteps & bit == 0 {
                guard saga.steps[index].compensation != nil else {
                    try note(&instance, .noCompensation, step: index, detail: "step \(saga.steps[index].name) has no compensation")
                    instance.undoneSteps |= bit
                    index -= 1
                    continue
                }
                instance.state = .compensating
                instance.compensating = true
                instance.step = index
                instance.attempt = 1
                try send(&instance)
                return
            }
            index -= 1
        }
        instance.state = .compensated
        instance.awaiting = nil
        instance.deadline = nil
        instance.deadlineKind = nil
        try note(&instance, .compensated, step: nil, detail: instance.reason)
        counts.compensated += 1
    }

    /// Turns the instance around: its completed steps are undone, last first.
    mutating func beginCompensation(_ instance: inout SagaInstance, reason: String) throws {
        instance.state = .compensating
        instance.compensating = true
        instance.reason = reason
        instance.awaiting = nil
        instance.deadline = nil
        instance.deadlineKind = nil
        try compensateNext(&instance)
    }

    // MARK: - Replies

    /// Applies a reply to the instance, or records why it is ignored.
    mutating func reply(_ instance: inout SagaInstance, commandID: String, type: String, value: Data?, position: String) throws {
        counts.replies += 1
        let index = instance.step
        if commandID == instance.awaiting, index < saga.steps.count {
            let step = saga.steps[index]
            if !instance.compensating {
                if let update = step.completions[type] {
                    try apply(update, value, to: &instance)
                    try note(&instance, .reply, step: index, commandID: commandID, type: type, detail: "completed step \(step.name)")
                    instance.completedSteps = index + 1
                    instance.effectiveSteps |= 1 << Int64(index)
                    if index + 1 == saga.steps.count {
                        instance.state = .completed
                        instance.awaiting = nil
                        instance.deadline = nil
                        instance.deadlineKind = nil
                        try note(&instance, .completed, step: nil)
                        counts.completed += 1
                    } else {
                        instance.step = index + 1
                        instance.attempt = 1
                        try send(&instance)
                    }
                    return
                }
                if step.failures.contains(type) {
                    try note(&instance, .reply, step: index, commandID: commandID, type: type, detail: "failed step \(step.name)")
                    try beginCompensation(&instance, reason: "step \(step.name) failed: \(type)")
                    return
                }
            } else {
                if step.compensationCompletions.contains(type) {
                    try note(&instance, .compensationReply, step: index, commandID: commandID, type: type, detail: "undid step \(step.name)")
                    instance.undoneSteps |= 1 << Int64(index)
                    // A failed instance still awaits its last compensation: when it succeeds
                    // after all, the instance compensates again rather than staying `failed`.
                    try compensateNext(&instance)
                    return
                }
                if step.compensationFailures.contains(type) {
                    if instance.state == .failed {
                        // An answer to an attempt before the instance failed: it stays failed.
                        try note(&instance, .compensationReply, step: index, commandID: commandID, type: type,
                                 detail: "the compensation of step \(step.name) was refused again; the saga stays failed until an operator retries it")
                        return
                    }
                    try note(&instance, .compensationReply, step: index, commandID: commandID, type: type, detail: "the compensation of step \(step.name) was refused")
                    try retryOrFail(&instance, why: "refused (\(type))")
                    return
                }
            }
            try ignore(&instance, .unknown, commandID: commandID, type: type, detail: "\(type) neither completes nor fails \(commandID); ignored (\(position))")
            return
        }
        try replyNotAwaited(&instance, commandID: commandID, type: type, value: value, position: position)
    }

    /// A reply to a command the instance is not awaiting: a duplicate, a late answer, or
    /// something it never asked.
    private mutating func replyNotAwaited(_ instance: inout SagaInstance, commandID: String, type: String, value: Data?, position: String) throws {
        let entries = try Row.fetchAll(db.cachedStatement(sql: "SELECT kind, step FROM runnel_saga_log WHERE saga_id = ? AND command_id = ?"),
                                       arguments: [instance.id, commandID])
        let kinds = Set(entries.map { $0["kind"] as String })
        let sent = kinds.contains(SagaLogKind.command.rawValue) || kinds.contains(SagaLogKind.compensation.rawValue)
        guard let step = entries.first?["step"] as Int?, step < saga.steps.count, sent else {
            try ignore(&instance, .unknown, commandID: commandID, type: type, detail: "the instance never sent \(commandID); ignored (\(position))")
            return
        }
        let definition = saga.steps[step]
        let bit: Int64 = 1 << Int64(step)
        if kinds.contains(SagaLogKind.compensation.rawValue) {
            // A compensation's answer that is not awaited: either it was already taken, or the
            // undo happened while the instance waited for another one.
            guard definition.compensationCompletions.contains(type), instance.undoneSteps & bit == 0 else {
                try ignore(&instance, kinds.contains(SagaLogKind.compensationReply.rawValue) ? .duplicate : .late, commandID: commandID, type: type,
                           detail: "\(commandID) is not awaited; ignored (\(position))")
                return
            }
            try note(&instance, .compensationReply, step: step, commandID: commandID, type: type, detail: "undid step \(definition.name), though the saga awaited another reply")
            instance.undoneSteps |= bit
            return
        }
        guard let update = definition.completions[type], instance.effectiveSteps & bit == 0 else {
            // A failure, or a completion already taken: nothing changes.
            let answered = kinds.contains(SagaLogKind.reply.rawValue) || kinds.contains(SagaLogKind.late.rawValue)
            try ignore(&instance, answered ? .duplicate : .late, commandID: commandID, type: type,
                       detail: answered ? "\(commandID) was already answered; ignored (\(position))" : "\(commandID) was given up before this reply came; ignored (\(position))")
            return
        }
        // A step completed after the saga gave up on it: its effect happened, so it counts as
        // completed for compensation, with what its reply says (a charge id, for the refund).
        try apply(update, value, to: &instance)
        instance.effectiveSteps |= bit
        try ignore(&instance, .late, commandID: commandID, type: type,
                   detail: "\(commandID) was given up before this completion came: step \(definition.name) is undone too (\(position))")
        switch instance.state {
        case .compensated:
            // Compensation is over: it starts again for this step alone.
            try compensateNext(&instance)
        case .compensating, .failed:
            // The compensation in hand (or the failed one, once an operator retries it) comes
            // first; this step's follows it.
            break
        case .running, .completed:
            // Not reachable: a command is only given up by compensation.
            break
        }
    }

    /// Applies a completing reply to the instance's state. A stored state that no longer
    /// decodes (its type changed shape) dead-letters the reply with why, rather than failing
    /// every batch that reads it.
    private func apply(_ update: ErasedSagaStep.Update, _ value: Data?, to instance: inout SagaInstance) throws {
        do {
            instance.data = try update(instance.data, value ?? Data("{}".utf8))
        } catch let undecodable as HandlerRoute.Undecodable {
            throw undecodable
        } catch {
            throw HandlerRoute.Undecodable(reason: "the state of \(instance.id) does not decode to apply it: \(DecodingProblem.describe(error))")
        }
    }

    private mutating func ignore(_ instance: inout SagaInstance, _ kind: SagaLogKind, commandID: String, type: String, detail: String) throws {
        try note(&instance, kind, step: nil, commandID: commandID, type: type, detail: detail)
        counts.ignoredReplies += 1
    }

    // MARK: - Deadlines

    /// The instance's deadline has come: a reply that did not come in time, or a retry to send.
    mutating func deadlinePassed(_ instance: inout SagaInstance) throws {
        guard let kind = instance.deadlineKind, let awaiting = instance.awaiting else {
            instance.deadline = nil
            return
        }
        switch kind {
        case .retry:
            instance.attempt += 1
            try note(&instance, .retry, step: instance.step, commandID: awaiting, detail: "attempt \(instance.attempt)")
            counts.retries += 1
            try send(&instance)
        case .reply:
            try note(&instance, .timeout, step: instance.step, commandID: awaiting, detail: "no reply to attempt \(instance.attempt)")
            counts.timeouts += 1
            try retryOrFail(&instance, why: "timed out")
        }
    }

    /// After a command went unanswered or a compensation was refused: waits and sends it again
    /// while attempts remain; otherwise a step fails (compensation begins) or, for a
    /// compensation, the instance is `failed`.
    private mutating func retryOrFail(_ instance: inout SagaInstance, why: String) throws {
        guard instance.step < saga.steps.count else {
            try fail(&instance, reason: "the saga has no step \(instance.step + 1) any more (its definition changed while this instance ran)")
            return
        }
        let step = saga.steps[instance.step]
        let policy = instance.compensating ? step.compensationRetry : step.retry
        if instance.attempt < policy.attempts {
            instance.deadline = now + policy.delay(after: instance.attempt).wholeMilliseconds
            instance.deadlineKind = .retry
            return
        }
        if !instance.compensating {
            try beginCompensation(&instance, reason: "step \(step.name) \(why) after \(instance.attempt) attempt\(instance.attempt == 1 ? "" : "s")")
            return
        }
        try fail(&instance, reason: "the compensation of step \(step.name) \(why) after \(instance.attempt) attempt\(instance.attempt == 1 ? "" : "s")")
    }

    /// Leaves the instance `failed`, for an operator: a compensation could not be done.
    private mutating func fail(_ instance: inout SagaInstance, reason: String) throws {
        instance.state = .failed
        instance.deadline = nil
        instance.deadlineKind = nil
        instance.reason = reason
        try note(&instance, .failed, step: instance.step, commandID: instance.awaiting, detail: reason)
        counts.failed += 1
    }

    // MARK: - Operators

    /// Aborts a running instance: what it awaits is given up, and its completed steps are undone.
    mutating func abort(_ instance: inout SagaInstance, reason: String) throws {
        guard instance.state == .running else {
            throw RunnelError(.saga, "saga \(instance.id) is \(instance.state.rawValue), not running, so it cannot be aborted",
                              hint: instance.state == .failed ? "A failed saga's compensation can be sent again with `runnel saga retry \(instance.id)`" : "Only a running saga can be aborted")
        }
        try note(&instance, .aborted, step: instance.step, commandID: instance.awaiting, detail: reason)
        try beginCompensation(&instance, reason: "aborted: \(reason)")
    }

    /// Sends a failed instance's compensation again, from its first attempt.
    mutating func retry(_ instance: inout SagaInstance) throws {
        guard instance.state == .failed else {
            throw RunnelError(.saga, "saga \(instance.id) is \(instance.state.rawValue), not failed, so there is nothing to retry",
                              hint: "Only a failed saga (a compensation refused or unanswered on its last attempt) can be retried")
        }
        let name = instance.step < saga.steps.count ? saga.steps[instance.step].name : "\(instance.step + 1)"
        try note(&instance, .retried, step: instance.step, detail: "compensation of step \(name) sent again by an operator")
        instance.state = .compensating
        instance.attempt = 1
        try send(&instance)
    }
}
