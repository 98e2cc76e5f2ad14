import Foundation
import GRDB

/// A saga: a business process of steps across participants (``Handler``s), each step a
/// command sent through the app outbox and the replies that complete or fail it; when a step
/// fails, the completed steps are undone by their compensations, in reverse.
///
/// ```swift
/// Saga("premium-upgrade", startedBy: "upgrades", on: UpgradeRequested.self,
///      id: { "\($0.upgradeId)" }, state: { UpgradeState($0) }) {
///     SagaStep<UpgradeState>("charge", to: "payment-commands") { ChargeCard(upgradeId: $0.upgradeId, cents: $0.cents) }
///         .completed(by: CardCharged.self) { state, charged in state.chargeId = charged.chargeId }
///         .failed(by: CardDeclined.self)
///         .compensate(to: "payment-commands") { RefundCharge(upgradeId: $0.upgradeId, chargeId: $0.chargeId) }
///         .compensated(by: ChargeRefunded.self)
///     SagaStep<UpgradeState>("grant", to: "entitlement-commands") { GrantPremium(memberId: $0.memberId) }
///         .completed(by: PremiumGranted.self)
///         .failed(by: GrantRefused.self)
/// }
/// ```
///
/// A ``SagaCoordinator`` runs it: an instance starts at each start event (one per id), and
/// its state, the commands it sends and the coordinator's offsets commit in one `app.sqlite`
/// transaction. The guarantees are numbered in `docs/guarantees.md`; `docs/sagas.md` tells the
/// whole story.
public struct Saga: Sendable {
    /// The saga's name: `runnel run NAME` runs its coordinator.
    public let name: String
    /// The topic its start events come from.
    public let startTopic: String
    /// The `type` of its start events.
    public let startType: String
    /// The topic its participants reply to (the `reply-to` of its commands).
    public let replyTopic: String
    /// Records per coordinator transaction.
    public var batchSize: Int
    let steps: [ErasedSagaStep]
    /// Decodes a start event into the instance's id and its first state (JSON).
    let begin: @Sendable (Data) throws -> (id: String, state: Data)

    /// Declares a saga.
    /// - Parameters:
    ///   - name: Its name: letters, digits, `-`, `_` and `.`.
    ///   - topic: The topic of its start events.
    ///   - start: The start event's type, decoded from the record's JSON.
    ///   - type: The start event's `type` header; by default the Swift type's name.
    ///   - replyTopic: Where participants reply; by default `<name>-replies`.
    ///   - batchSize: Records per coordinator transaction (1,000).
    ///   - id: The business id of the instance a start event begins: a second start event
    ///     with the same id is ignored and recorded.
    ///   - state: The instance's data at the start; steps read it to build commands and
    ///     replies may change it. Stored as JSON.
    ///   - steps: The steps, in order.
    public init<Start: Decodable & SendableMetatype, State: Codable & Sendable & SendableMetatype>(
        _ name: String, startedBy topic: String, on start: Start.Type, type: String = String(describing: Start.self),
        replies replyTopic: String? = nil, batchSize: Int = 1_000,
        id: @escaping @Sendable (Start) -> String, state: @escaping @Sendable (Start) -> State,
        @SagaStepsBuilder<State> steps: () -> [SagaStep<State>]
    ) {
        self.name = name
        startTopic = topic
        startType = type
        self.replyTopic = replyTopic ?? "\(name)-replies"
        self.batchSize = batchSize
        self.steps = steps().map(\.erased)
        begin = { value in
            let event: Start
            do {
                event = try EventDecoder().decode(Start.self, from: value)
            } catch {
                throw HandlerRoute.Undecodable(reason: "does not decode as \(String(describing: Start.self)): \(DecodingProblem.describe(error))")
            }
            do {
                return (id(event), try SagaStateCoder.encode(state(event)))
            } catch {
                throw HandlerRoute.Undecodable(reason: "its state does not encode as JSON: \(error)")
            }
        }
    }

    /// The names of its steps, in order.
    public var stepNames: [String] { steps.map(\.name) }

    /// What each step sends and awaits, for listings: `(step, command type, command topic,
    /// completion types, failure types, compensation type or nil)`.
    public var stepSummaries: [SagaStepSummary] {
        steps.map {
            SagaStepSummary(name: $0.name, commandType: $0.command.type, commandTopic: $0.command.topic,
                            completedBy: $0.completions.keys.sorted(), failedBy: $0.failures.sorted(),
                            timeout: $0.timeout, retry: $0.retry,
                            compensationType: $0.compensation?.type, compensationTopic: $0.compensation?.topic,
                            compensatedBy: $0.compensationCompletions.sorted(), compensationFailedBy: $0.compensationFailures.sorted())
        }
    }

    /// Checks the saga: a plain name, valid topics, at least one step, unique step names,
    /// each step completed by some reply type, no type both completing and failing a command.
    /// - Throws: ``RunnelError`` `.saga` saying what is wrong and where.
    public func validate() throws {
        try ConsumerName.validate(name, kind: "saga")
        try TopicName.validate(startTopic)
        try TopicName.validate(replyTopic)
        guard !steps.isEmpty else { throw RunnelError(.saga, "saga \(name) has no steps", hint: "Give it at least one SagaStep") }
        // An instance keeps a bit per step in a 64-bit column (which steps took effect, which are undone).
        guard steps.count <= 63 else {
            throw RunnelError(.saga, "saga \(name) has \(steps.count) steps; a saga has at most 63", hint: "Split it into sagas that start one another")
        }
        guard batchSize > 0 else { throw RunnelError(.saga, "saga \(name) has batch size \(batchSize); it must be at least 1") }
        var names = Set<String>()
        for step in steps {
            guard !step.name.isEmpty, names.insert(step.name).inserted else {
                throw RunnelError(.saga, "saga \(name) has two steps named \"\(step.name)\"", hint: "Give each step its own name")
            }
            try TopicName.validate(step.command.topic)
            guard !step.completions.isEmpty else {
                throw RunnelError(.saga, "step \(step.name) of saga \(name) has no reply that completes it, so it could only time out",
                                  hint: "Add .completed(by: TheReply.self)")
            }
            if let both = step.failures.intersection(step.completions.keys).sorted().first {
                throw RunnelError(.saga, "step \(step.name) of saga \(name) both completes and fails on \(both)", hint: "A reply type either completes a step or fails it")
            }
            if let compensation = step.compensation { try TopicName.validate(compensation.topic) }
            if !step.compensationFailures.isEmpty, step.compensationCompletions.isEmpty {
                throw RunnelError(.saga, "the compensation of step \(step.name) of saga \(name) can be refused but nothing completes it, so it would count as done once sent and its refusals would be ignored",
                                  hint: "Add .compensated(by: TheReply.self)")
            }
            if let both = step.compensationFailures.intersection(step.compensationCompletions).sorted().first {
                throw RunnelError(.saga, "the compensation of step \(step.name) of saga \(name) both completes and fails on \(both)")
            }
            guard step.timeout > .zero, step.compensationTimeout > .zero, step.retry.attempts >= 1, step.compensationRetry.attempts >= 1 else {
                throw RunnelError(.saga, "step \(step.name) of saga \(name) needs positive timeouts and at least one attempt")
            }
        }
    }
}

/// What a step sends and awaits, as `runnel sagas` lists it.
public struct SagaStepSummary: Sendable, Hashable {
    public var name: String
    public var commandType: String
    public var commandTopic: String
    public var completedBy: [String]
    public var failedBy: [String]
    public var timeout: Duration
    public var retry: SagaRetry
    public var compensationType: String?
    public var compensationTopic: String?
    public var compensatedBy: [String]
    public var compensationFailedBy: [String]
}

/// Collects a saga's steps, in order.
@resultBuilder
public enum SagaStepsBuilder<State: Codable & Sendable & SendableMetatype> {
    public static func buildBlock(_ steps: SagaStep<State>...) -> [SagaStep<State>] { steps }
}

/// How a step's command (or compensation) is sent again when no reply came in time, or when
/// a compensation was refused: the same command id each time, so a participant can tell.
public struct SagaRetry: Sendable, Hashable {
    /// Attempts in all, the first included (1: never sent again).
    public var attempts: Int
    /// The wait before the second attempt; it doubles with each attempt after.
    public var backoff: Duration
    /// The longest wait between attempts.
    public var maximumBackoff: Duration

    /// A policy of `attempts` attempts in all, waiting `backoff` (doubling, up to `maximum`).
    public static func attempts(_ attempts: Int, backoff: Duration = .seconds(1), maximum: Duration = .seconds(60)) -> SagaRetry {
        SagaRetry(attempts: attempts, backoff: backoff, maximumBackoff: maximum)
    }

    /// One attempt: a timeout fails the step at once.
    public static let never = SagaRetry(attempts: 1, backoff: .seconds(1), maximumBackoff: .seconds(1))

    /// The wait after attempt `attempt` (1-based) before the next.
    func delay(after attempt: Int) -> Duration {
        var wait = backoff
        for _ in 1..<max(1, attempt) where wait < maximumBackoff { wait = wait * 2 }
        return min(wait, maximumBackoff)
    }
}

/// How states travel between a saga's closures and `runnel_sagas.data`: JSON with sorted keys
/// and dates as whole milliseconds, as outbox payloads are.
enum SagaStateCoder {
    static func encode<State: Encodable>(_ state: State) throws -> Data {
        try encoder.encode(state)
    }

    static func decode<State: Decodable>(_ type: State.Type, from data: Data) throws -> State {
        try EventDecoder().decode(State.self, from: data)
    }

    private static let encoder = Outbox.makeEncoder()
}
