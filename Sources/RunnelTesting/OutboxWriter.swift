import Foundation
import GRDB
import Runnel

/// A writer that keeps committing to both outboxes on a thread of its own while a crash test
/// kills relays: one row per transaction, every fifth in `derived.sqlite`, keys cycling over
/// eleven (`k0`…`k10`), each row kept as committed (read back in its own transaction).
///
/// ```swift
/// let writer = OutboxWriter(store: store)
/// writer.start()
/// // … kill rounds …
/// writer.stop()
/// let rows = writer.committed
/// ```
package final class OutboxWriter: @unchecked Sendable {
    // @unchecked: `rows`, `running` and `failure` are only touched under `lock`.

    /// A row as committed.
    package struct Row: Hashable, Sendable {
        package var role: DatabaseRole
        package var id: Int64
        package var topic: String
        package var key: String?
        package var type: String
        package var payload: String
        package var eventTime: Int64

        package init(role: DatabaseRole, id: Int64, topic: String, key: String?, type: String, payload: String, eventTime: Int64) {
            self.role = role
            self.id = id
            self.topic = topic
            self.key = key
            self.type = type
            self.payload = payload
            self.eventTime = eventTime
        }

        /// `app/12`: how the relayed record's headers name it.
        package var name: String { "\(role.rawValue)/\(id)" }
    }

    /// The payload: `{"sequence":N,"text":"crash"}`.
    package struct Note: Codable, Sendable {
        package var sequence: Int
        package var text: String
    }

    package let store: Store
    /// Every `keylessEvery`-th row has no key (nil: every row has one).
    private let keylessEvery: Int?
    private let pauseMicroseconds: UInt32
    private let lock = NSLock()
    private var rows: [Row] = []
    private var running = true
    private var failure: (any Error)?
    private var thread: Thread?

    package init(store: Store, keylessEvery: Int? = nil, pauseMicroseconds: UInt32 = 200) {
        self.store = store
        self.keylessEvery = keylessEvery
        self.pauseMicroseconds = pauseMicroseconds
    }

    /// The rows committed so far, in commit order.
    package var committed: [Row] { lock.withLock { rows } }

    /// How many rows were committed.
    package var count: Int { lock.withLock { rows.count } }

    /// Why the writer stopped by itself, if it did.
    package var error: (any Error)? { lock.withLock { failure } }

    package func start() {
        let thread = Thread { [self] in write() }
        self.thread = thread
        thread.start()
    }

    /// Stops writing and waits for the thread to end.
    package func stop() {
        lock.withLock { running = false }
        while let thread, !thread.isFinished { usleep(1_000) }
    }

    private func write() {
        var sequence = 0
        while lock.withLock({ running }) {
            let role: DatabaseRole = sequence % 5 == 4 ? .derived : .app
            let key = keylessEvery.map { sequence % $0 == $0 - 1 } == true ? nil : "k\(sequence % 11)"
            do {
                let row = try store.database(role).write { db -> Row in
                    let id = try store.outbox.append(OutboxEvent(topic: role == .app ? "notes" : "derived-notes", key: key, type: "Noted",
                                                                 payload: Note(sequence: sequence, text: "crash"), eventTime: Date()), in: db)
                    guard let stored = try GRDB.Row.fetchOne(db, sql: "SELECT topic, key, type, payload, event_time FROM runnel_outbox WHERE id = ?", arguments: [id]) else {
                        throw RunnelError(.notFound, "outbox row \(id) is not there in the transaction that appended it")
                    }
                    return Row(role: role, id: id, topic: stored["topic"], key: stored["key"], type: stored["type"],
                               payload: stored["payload"], eventTime: stored["event_time"])
                }
                sequence += 1
                lock.withLock { rows.append(row) }
            } catch {
                lock.withLock { failure = error }
                return
            }
            usleep(pauseMicroseconds)
        }
    }
}
