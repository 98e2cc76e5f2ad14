import Foundation
import GRDB

/// The notification tables of `app.sqlite`: what was collected from the tickets topic, how far
/// the topic was read, and each notification's delivery state per channel.
///
/// Collection records each change (`runnel_notification_changes`, keyed by ticket and opening)
/// with its notifications and moves the topic's offsets in one transaction. A change already
/// recorded makes no notification: a replay after a crash, or a rebuild that announces the same
/// changes again at new offsets, adds nothing, even when the service's owners changed since
/// (a rebuild names the owners of now, who would otherwise hear of every past opening). The
/// Notifications section of `docs/tickets.md` describes the columns.
enum NotificationLedger {
    /// A notification waiting for a channel.
    struct Pending: Sendable {
        let key: String
        let payload: String
        let attempts: Int
    }

    /// What a webhook delivery came to.
    enum WebhookOutcome: Sendable, Equatable {
        /// The receiver answered 2xx.
        case delivered(status: Int)
        /// A failure worth retrying (408, 429, 5xx, no connection, a timeout).
        case retry(String)
        /// The receiver refused it for good (another 4xx): not retried.
        case rejected(String)
    }

    // MARK: - Collecting

    /// The next offset to read per partition of `topic`.
    static func offsets(of topic: String, in db: Database) throws -> [Int: Int64] {
        var offsets: [Int: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT partition, next_offset FROM runnel_notification_offsets WHERE topic = ?", arguments: [topic]) {
            offsets[row["partition"]] = row["next_offset"]
        }
        return offsets
    }

    static func save(offset: Int64, of topic: String, partition: Int, in db: Database) throws {
        try db.execute(sql: """
            INSERT INTO runnel_notification_offsets (topic, partition, next_offset) VALUES (?, ?, ?)
            ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset
            """, arguments: [topic, partition, offset])
    }

    /// Records that a change was collected, unless it already was.
    /// - Returns: Whether it was new; a change collected before makes no notification, whoever
    ///   its owners are now.
    static func insertChange(ticketId: String, opening: Int, at now: Int64, in db: Database) throws -> Bool {
        try db.execute(sql: "INSERT OR IGNORE INTO runnel_notification_changes (ticket_id, opening, collected_at) VALUES (?, ?, ?)",
                       arguments: [ticketId, opening, now])
        return db.changesCount == 1
    }

    /// Inserts a notification unless its key is already there.
    /// - Returns: Whether it was new.
    static func insert(_ notification: TicketNotification, type: String, webhook: Bool, at now: Int64, in db: Database) throws -> Bool {
        try db.execute(sql: """
            INSERT OR IGNORE INTO runnel_notifications
                (key, ticket_id, opening, service, owner, type, payload, created_at, file_state, webhook_state, next_attempt_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
            """, arguments: [notification.key, notification.ticketId, notification.opening, notification.service, notification.owner,
                             type, try notification.jsonLine(), now, webhook ? "pending" : "off", webhook ? now : nil])
        return db.changesCount == 1
    }

    // MARK: - The file channel

    /// Every notification not yet in the file, in the order they were collected.
    static func pendingForFile(limit: Int, in db: Database) throws -> [Pending] {
        try Row.fetchAll(db, sql: "SELECT key, payload FROM runnel_notifications WHERE file_state = 'pending' ORDER BY rowid LIMIT ?",
                         arguments: [limit]).map { Pending(key: $0["key"], payload: $0["payload"], attempts: 0) }
    }

    /// Marks notifications written to the file, and records how the file stood then.
    static func markInFile(_ keys: some Sequence<String>, file: String, mark: NotificationFile.Mark, at now: Int64, in db: Database) throws -> Int {
        var marked = 0
        for key in keys {
            try db.execute(sql: "UPDATE runnel_notifications SET file_state = 'delivered', file_delivered_at = ? WHERE key = ? AND file_state = 'pending'",
                           arguments: [now, key])
            marked += db.changesCount
        }
        try db.execute(sql: """
            INSERT INTO runnel_notification_files (path, committed_bytes, committed_tail) VALUES (?, ?, ?)
            ON CONFLICT (path) DO UPDATE SET committed_bytes = excluded.committed_bytes, committed_tail = excluded.committed_tail
            """, arguments: [file, mark.size, Data(mark.tail)])
        return marked
    }

    /// How the file stood at the last commit: lines after that may belong to a pass that
    /// crashed before it marked them. An empty mark for a file never committed.
    static func committedMark(of file: String, in db: Database) throws -> NotificationFile.Mark {
        guard let row = try Row.fetchOne(db, sql: "SELECT committed_bytes, committed_tail FROM runnel_notification_files WHERE path = ?",
                                         arguments: [file]) else { return NotificationFile.Mark() }
        return NotificationFile.Mark(size: row["committed_bytes"], tail: [UInt8](row["committed_tail"] as Data))
    }

    // MARK: - The webhook channel

    /// Notifications whose next webhook attempt is due at `now`, oldest first.
    static func dueForWebhook(at now: Int64, limit: Int, in db: Database) throws -> [Pending] {
        try Row.fetchAll(db, sql: """
            SELECT key, payload, attempts FROM runnel_notifications
            WHERE webhook_state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, rowid LIMIT ?
            """, arguments: [now, limit]).map { Pending(key: $0["key"], payload: $0["payload"], attempts: $0["attempts"]) }
    }

    /// When the next webhook attempt is due, if any is pending.
    static func nextWebhookAttempt(in db: Database) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT min(next_attempt_at) FROM runnel_notifications WHERE webhook_state = 'pending'")
    }

    /// Records one attempt.
    /// - Parameter retryAt: When to try again, for ``WebhookOutcome/retry(_:)``.
    static func record(_ outcome: WebhookOutcome, of key: String, at now: Int64, retryAt: Int64, in db: Database) throws {
        switch outcome {
        case .delivered:
            try db.execute(sql: """
                UPDATE runnel_notifications SET webhook_state = 'delivered', attempts = attempts + 1, delivered_at = ?, next_attempt_at = NULL
                WHERE key = ? AND webhook_state = 'pending'
                """, arguments: [now, key])
        case .retry(let error):
            try db.execute(sql: """
                UPDATE runnel_notifications SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?
                WHERE key = ? AND webhook_state = 'pending'
                """, arguments: [error, retryAt, key])
        case .rejected(let error):
            try db.execute(sql: """
                UPDATE runnel_notifications SET webhook_state = 'failed', attempts = attempts + 1, last_error = ?, next_attempt_at = NULL
                WHERE key = ? AND webhook_state = 'pending'
                """, arguments: [error, key])
        }
    }

    // MARK: - Reading

    /// Notifications per channel state.
    static func counts(in db: Database) throws -> TicketNotifier.Counts {
        var counts = TicketNotifier.Counts()
        for row in try Row.fetchAll(db, sql: "SELECT file_state, webhook_state, count(*) AS n FROM runnel_notifications GROUP BY 1, 2") {
            let n: Int = row["n"]
            counts.total += n
            if row["file_state"] as String == "pending" { counts.filePending += n }
            switch row["webhook_state"] as String {
            case "pending": counts.webhookPending += n
            case "delivered": counts.webhookDelivered += n
            case "failed": counts.webhookFailed += n
            default: break
            }
        }
        return counts
    }
}
