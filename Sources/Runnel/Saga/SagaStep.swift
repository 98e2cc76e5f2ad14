import Foundation
import GRDB

/// One step of a ``Saga``: the command it sends, the replies that complete or fail it, how long
/// it waits and how often it tries, and the compensation that undoes it once completed.
///
/// ```swift
/// SagaStep<InvitationState>("email", to: "email-commands") { SendInvitationEmail(invitationId: $0.invitationId, to: $0.email) }
///     .completed(by: EmailSent.self)
///     .failed(by: EmailFailed.self)
///     .timeout(.seconds(30), retry: .attempts(3, backoff: .seconds(2)))
/// ```
///
/// By default a step waits 30 s for a reply and tries 3 times (1 s, then 2 s between); a
/// compensation waits 30 s and tries 8 times (1 s doubling to 60 s) before the saga is `failed`.
public struct SagaStep<State: Codable & Sendable & SendableMetatype>: Sendable {
    var erased: ErasedSagaStep

    /// A step that sends the command `build` makes from the instance's state to `topic`.
    /// - Parameters:
    ///   - name: The step's name, unique in the saga.
    ///   - topic: The topic of the participant that carries it out.
    ///   - type: The command's `type` header; by default the command's Swift type name.
    ///   - build: Makes the command from the instance's state.
    public init<Command: Encodable & Sendable>(_ name: String, to topic: String, type: String = String(describing: Command.self),
                                               _ build: @escaping @Sendable (State) throws -> Command) {
        erased = ErasedSagaStep(name: name, command: ErasedSagaCommand(topic: topic, type: type, build: build))
    }

    /// A reply of `reply` type completes the step; `update` may record what it says in the
    /// state (a charge id for the refund, say).
    public func completed<Reply: Decodable & SendableMetatype>(by reply: Reply.Type, type: String = String(describing: Reply.self),
                                                               _ update: (@Sendable (inout State, Reply) -> Void)? = nil) -> Self {
        var step = self
        if let update {
            step.erased.completions[type] = { @Sendable stateJSON, replyJSON in
                var state = try SagaStateCoder.decode(State.self, from: stateJSON)
                let decoded: Reply
                do {
                    decoded = try EventDecoder().decode(Reply.self, from: replyJSON)
                } catch {
                    // Dead-lettered by the coordinator, as an undecodable start event is: thrown
                    // as is, it would fail every batch that reads it.
                    throw HandlerRoute.Undecodable(reason: "does not decode as \(String(describing: Reply.self)): \(DecodingProblem.describe(error))")
                }
                update(&state, decoded)
                return try SagaStateCoder.encode(state)
            }
        } else {
            step.erased.completions[type] = ErasedSagaStep.keepState
        }
        return step
    }

    /// A reply of `reply` type fails the step: the completed steps before it are compensated.
    public func failed<Reply: Decodable>(by reply: Reply.Type, type: String = String(describing: Reply.self)) -> Self {
        var step = self
        step.erased.failures.insert(type)
        return step
    }

    /// How long to wait for a reply to each attempt, and how often to try. When the last
    /// attempt times out the step has failed, and the steps before it are compensated.
    public func timeout(_ timeout: Duration, retry: SagaRetry = .attempts(3)) -> Self {
        var step = self
        step.erased.timeout = timeout
        step.erased.retry = retry
        return step
    }

    /// Undoes the step once it completed: the command `build` makes is sent to `topic` when a
    /// later step fails, the saga is aborted, or the step's completion comes after the saga gave
    /// up on it.
    public func compensate<Command: Encodable & Sendable>(to topic: String, type: String = String(describing: Command.self),
                                                          _ build: @escaping @Sendable (State) throws -> Command) -> Self {
        var step = self
        step.erased.compensation = ErasedSagaCommand(topic: topic, type: type, build: build)
        return step
    }

    /// A reply of `reply` type completes the compensation. Without one, a compensation counts
    /// as done once sent.
    public func compensated<Reply>(by reply: Reply.Type, type: String = String(describing: Reply.self)) -> Self {
        var step = self
        step.erased.compensationCompletions.insert(type)
        return step
    }

    /// A reply of `reply` type refuses the compensation: it is sent again after the backoff,
    /// and after its last attempt the saga is `failed` (an operator can `retry` it).
    public func compensationFailed<Reply>(by reply: Reply.Type, type: String = String(describing: Reply.self)) -> Self {
        var step = self
        step.erased.compensationFailures.insert(type)
        return step
    }

    /// How long to wait for the compensation's reply, and how often to try it.
    public func compensationTimeout(_ timeout: Duration, retry: SagaRetry = .attempts(8)) -> Self {
        var step = self
        step.erased.compensationTimeout = timeout
        step.erased.compensationRetry = retry
        return step
    }
}

/// A step with its types erased, as the coordinator runs it.
struct ErasedSagaStep: Sendable {
    /// Applies a completing reply to the state JSON, giving the new state JSON.
    typealias Update = @Sendable (Data, Data) throws -> Data
    static let keepState: Update = { state, _ in state }

    var name: String
    var command: ErasedSagaCommand
    var completions: [String: Update] = [:]
    var failures: Set<String> = []
    var timeout: Duration = .seconds(30)
    var retry: SagaRetry = .attempts(3)
    var compensation: ErasedSagaCommand?
    var compensationCompletions: Set<String> = []
    var compensationFailures: Set<String> = []
    var compensationTimeout: Duration = .seconds(30)
    var compensationRetry: SagaRetry = .attempts(8)
}

/// A command with its types erased: appends itself to the outbox from a state's JSON.
struct ErasedSagaCommand: Sendable {
    let topic: String
    let type: String
    let append: @Sendable (_ state: Data, _ event: SagaCommandEnvelope, _ db: Database) throws -> Void

    init<State: Decodable & SendableMetatype, Command: Encodable & Sendable>(topic: String, type: String, build: @escaping @Sendable (State) throws -> Command) {
        self.topic = topic
        self.type = type
        append = { stateJSON, envelope, db in
            let command = try build(try SagaStateCoder.decode(State.self, from: stateJSON))
            try envelope.outbox.append(OutboxEvent(topic: topic, key: envelope.sagaID, type: type, payload: command,
                                                   headers: envelope.headers, eventTime: envelope.time), in: db)
        }
    }
}

/// What goes around a command: its key (the saga instance), its headers and its time.
struct SagaCommandEnvelope {
    var sagaID: String
    var headers: [String: String]
    var time: Date
    var outbox: Outbox
}
