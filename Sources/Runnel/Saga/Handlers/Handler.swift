import Foundation
import GRDB

/// A participant: reads commands (or any events) from topics of the log, changes business rows
/// and sends replies and events through the app outbox, all in one `app.sqlite` transaction
/// with its input offsets — the inbox pattern, so each record is applied exactly once.
///
/// ```swift
/// Handler("email", reads: "email-commands") {
///     On(SendInvitationEmail.self) { command, context in
///         try context.db.execute(sql: "INSERT INTO emails_sent …", arguments: […])
///         try context.reply(EmailSent(invitationId: command.invitationId))
///     }
/// }
/// ```
///
/// A command a saga sent carries a command id, the same on every retry: a handler ignores an id
/// it already completed (replied to with ``HandlerContext/reply(_:type:schemaVersion:)``), so a
/// retry after a slow answer does not charge a card twice. Records of types no `On` takes are
/// skipped; a record that does not decode, or whose body throws, goes to
/// `runnel_consumer_dead_letters` with its reason, its changes rolled back, and the rest flows on.
public struct Handler: Sendable {
    /// The handler's name: `runnel run NAME` runs it.
    public let name: String
    /// The topics it reads.
    public let topics: [String]
    /// Records per transaction.
    public var batchSize: Int
    let routes: [String: HandlerRoute]

    /// Creates a handler.
    /// - Parameters:
    ///   - name: Its name: letters, digits, `-`, `_` and `.`.
    ///   - topics: The topics it reads.
    ///   - batchSize: Records per transaction (1,000).
    ///   - routes: One ``On`` per event type it takes.
    public init(_ name: String, reads topics: String..., batchSize: Int = 1_000, @HandlerRoutesBuilder routes: () -> [On]) {
        self.name = name
        self.topics = topics
        self.batchSize = batchSize
        let all = routes()
        self.routes = Dictionary(all.map { ($0.route.type, $0.route) }, uniquingKeysWith: { first, _ in first })
        routeCount = all.count
    }

    private let routeCount: Int

    /// The event types it takes, sorted.
    public var eventTypes: [String] { routes.keys.sorted() }

    /// Checks the name, the topics and that no type has two routes.
    /// - Throws: ``RunnelError`` `.saga` saying what is wrong.
    public func validate() throws {
        try ConsumerName.validate(name, kind: "handler")
        guard !topics.isEmpty else {
            throw RunnelError(.saga, "handler \(name) reads no topic", hint: "Name the topics it reads: Handler(\"\(name)\", reads: \"commands\") { … }")
        }
        for topic in topics { try TopicName.validate(topic) }
        guard routeCount == routes.count else {
            throw RunnelError(.saga, "handler \(name) has two On clauses for the same event type", hint: "Give each event type one On")
        }
        guard batchSize > 0 else { throw RunnelError(.saga, "handler \(name) has batch size \(batchSize); it must be at least 1") }
    }
}

/// One event type a ``Handler`` takes, and what it does with it.
public struct On: Sendable {
    let route: HandlerRoute

    /// Takes events of `type` (the `type` header; by default the Swift type's name), decoded
    /// from their JSON, and runs `body` inside the handler's transaction.
    /// - Parameters:
    ///   - command: The payload's type.
    ///   - type: The `type` header it comes with.
    ///   - body: Changes business rows through `context.db` and replies or emits events through
    ///     `context`. Throwing rolls back what it did and dead-letters the record.
    public init<Command: Decodable & SendableMetatype>(_ command: Command.Type, type: String = String(describing: Command.self),
                                    _ body: @escaping @Sendable (Command, HandlerContext) throws -> Void) {
        route = HandlerRoute(type: type) { value, context in
            let decoded: Command
            do {
                decoded = try EventDecoder().decode(Command.self, from: value)
            } catch {
                throw HandlerRoute.Undecodable(reason: "does not decode as \(String(describing: Command.self)): \(DecodingProblem.describe(error))")
            }
            try body(decoded, context)
        }
    }
}

/// Collects a handler's ``On`` clauses.
@resultBuilder
public enum HandlerRoutesBuilder {
    public static func buildBlock(_ routes: On...) -> [On] { routes }
}

/// A type-erased route: the type it takes and how to run a record of it.
struct HandlerRoute: Sendable {
    struct Undecodable: Error { var reason: String }
    let type: String
    let run: @Sendable (Data, HandlerContext) throws -> Void
}

/// The names of handlers and sagas: used in lock files and consumer names.
enum ConsumerName {
    static func validate(_ name: String, kind: String) throws {
        guard !name.isEmpty, name.count <= 100,
              name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) }),
              !name.hasPrefix(".") else {
            throw RunnelError(.saga, "\(kind) name \"\(name)\" is not a plain name", hint: "Use 1 to 100 letters, digits, '-', '_' and '.', not starting with '.'")
        }
    }
}
