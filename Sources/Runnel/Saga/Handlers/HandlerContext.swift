import Foundation
import GRDB

/// What a handler's ``On`` body works with: the transaction, the record it is handling, and
/// the ways to answer it. Valid only during the body.
public final class HandlerContext {
    /// The handler's transaction on `app.sqlite`: business changes made here commit with the
    /// replies and the handler's input offset, or not at all.
    public let db: Database
    /// The saga instance that sent the command, when a saga did.
    public let sagaID: String?
    /// The command's id, the same on every retry, when a saga sent it.
    public let commandID: String?
    /// The attempt that sent the command (1 for the first), when a saga sent it.
    public let attempt: Int
    /// The record's event time.
    public let eventTime: Date
    /// The handler's clock's reading: the event time of replies.
    public let now: Date
    /// Where the record is in the log: `topic/partition@offset`.
    public let position: String

    let replyTo: String?
    let outbox: Outbox
    /// Set by ``fail(_:type:schemaVersion:)``: the command is answered but not completed.
    var failed = false

    init(db: Database, record: ConsumedRecord, now: Date, outbox: Outbox) {
        self.db = db
        sagaID = record.headers[SagaHeader.sagaID]
        commandID = record.headers[SagaHeader.commandID]
        attempt = record.headers[SagaHeader.attempt].flatMap { Int($0) } ?? 1
        eventTime = Date(millisecondsSince1970: record.timestamp)
        self.now = now
        position = record.position
        replyTo = record.headers[SagaHeader.replyTo]
        self.outbox = outbox
    }

    /// Answers the command with a reply that completes it: the reply goes to the topic the
    /// command named, keyed by its saga, and the command's id is remembered so a retry of it is
    /// ignored.
    /// - Parameters:
    ///   - payload: The reply, encoded as JSON.
    ///   - type: Its `type` header; by default the payload's Swift type name.
    ///   - schemaVersion: Its schema version.
    /// - Throws: ``RunnelError`` `.saga` when the record is not a command (no `reply-to` header);
    ///   the outbox's errors.
    public func reply<Payload: Encodable & Sendable>(_ payload: Payload, type: String = String(describing: Payload.self), schemaVersion: Int = 1) throws {
        try send(payload, type: type, schemaVersion: schemaVersion)
    }

    /// Answers the command with a reply that refuses it (a card declined, an email bounced).
    /// The business changes made still commit, but the command is not remembered as completed:
    /// if the saga sends it again (a compensation is retried until it succeeds), it is handled
    /// afresh.
    /// - Parameters: As ``reply(_:type:schemaVersion:)``.
    public func fail<Payload: Encodable & Sendable>(_ payload: Payload, type: String = String(describing: Payload.self), schemaVersion: Int = 1) throws {
        try send(payload, type: type, schemaVersion: schemaVersion)
        failed = true
    }

    /// Sends any event through the app outbox, in the handler's transaction.
    @discardableResult
    public func emit<Payload>(_ event: OutboxEvent<Payload>) throws -> Int64 {
        try outbox.append(event, in: db)
    }

    private func send<Payload: Encodable & Sendable>(_ payload: Payload, type: String, schemaVersion: Int) throws {
        guard let replyTo, let sagaID, let commandID else {
            throw RunnelError(.saga, "the record at \(position) is not a saga's command (it has no \(SagaHeader.replyTo), \(SagaHeader.sagaID) and \(SagaHeader.commandID) headers), so there is no one to reply to",
                              hint: "Reply only to commands; send other events with context.emit(OutboxEvent(…))")
        }
        try outbox.append(OutboxEvent(topic: replyTo, key: sagaID, type: type, schemaVersion: schemaVersion, payload: payload,
                                      headers: [SagaHeader.sagaID: sagaID, SagaHeader.commandID: commandID], eventTime: now), in: db)
    }
}
