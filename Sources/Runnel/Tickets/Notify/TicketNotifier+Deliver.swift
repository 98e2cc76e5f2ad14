import Foundation
import GRDB
import ServiceLifecycle

extension TicketNotifier {
    /// What a delivery to the file did.
    public struct FileDelivery: Sendable, Hashable {
        /// Lines appended.
        public var appended = 0
        /// Notifications found already in the file, written by a pass that crashed before it
        /// marked them: marked delivered without a second line.
        public var foundInFile = 0
        /// Bytes of a torn last line (a crash mid-append) cut off; its notification was written again.
        public var cutBytes = 0
    }

    /// What a delivery to the webhook did.
    public struct WebhookDelivery: Sendable, Hashable {
        /// Notifications the receiver took (2xx).
        public var delivered = 0
        /// Attempts that failed in a way worth retrying (408, 429, 5xx, no connection, a
        /// timeout): each is tried again after its backoff.
        public var retrying = 0
        /// Notifications the receiver refused for good (another 4xx), with the error kept in
        /// `runnel_notifications.last_error`.
        public var failed: [Failure] = []
    }

    /// A notification the webhook refused.
    public struct Failure: Sendable, Hashable {
        /// The notification's key.
        public var key: String
        /// The status and the start of the receiver's answer.
        public var error: String
    }

    /// Appends every notification not yet in the file, and marks them delivered.
    ///
    /// Each batch is appended and fsynced, then marked in one transaction with the file's new
    /// size and last line. Before appending, the bytes after the size of the last commit are
    /// read (the whole file, when it no longer holds that commit's last line there): a torn
    /// line there is cut off, and notifications with a whole line there (a crash came between
    /// the append and the commit) are marked without appending them again.
    /// - Throws: ``RunnelError`` `.io` when the file cannot be written; a database failure.
    public func deliverToFile() throws -> FileDelivery {
        var delivery = FileDelivery()
        while true {
            let (pending, committed) = try RunnelError.naming(store.app.path, "reading pending notifications") {
                try store.app.read { db in
                    (try NotificationLedger.pendingForFile(limit: options.batchSize, in: db),
                     try NotificationLedger.committedMark(of: file.ledgerName, in: db))
                }
            }
            guard !pending.isEmpty else { break }
            let recovery = try file.recover(after: committed)
            if recovery.readFromStart {
                logger.notice("the notifications file no longer holds the lines of the last commit (emptied or replaced); it was read from its start",
                              metadata: ["notify.file": "\(fileURL.path)", "notify.committed_bytes": "\(committed.size)"])
            }
            if recovery.cutBytes > 0 {
                logger.warning("cut a torn last line off the notifications file; its notification is written again", metadata: [
                    "notify.file": "\(fileURL.path)", "notify.cut_bytes": "\(recovery.cutBytes)",
                ])
            }
            let fresh = pending.filter { !recovery.keys.contains($0.key) }
            try file.append(fresh.map(\.payload))
            let mark = try file.mark()
            Self.appendedBeforeCommit.reach()
            let now = Date().millisecondsSince1970
            let marked = try RunnelError.naming(store.app.path, "marking notifications written to \(fileURL.lastPathComponent)") {
                try store.app.write { db in
                    try NotificationLedger.markInFile(recovery.keys.union(fresh.map(\.key)), file: file.ledgerName, mark: mark, at: now, in: db)
                }
            }
            fileCounter.increment(by: marked)
            delivery.appended += fresh.count
            delivery.foundInFile += marked - fresh.count
            delivery.cutBytes += recovery.cutBytes
        }
        return delivery
    }

    /// Posts every notification whose webhook attempt is due, one at a time, committing each
    /// outcome before the next send. Does nothing without a webhook.
    ///
    /// A pass tries each notification at most once: those that fail are due again after their
    /// backoff (``Options/firstRetryDelay``, doubling, capped at ``Options/maximumRetryDelay``).
    /// It stops between sends when the task is cancelled or a graceful shutdown begins.
    /// - Throws: A database failure; a failed call is an outcome, not an error.
    public func deliverToWebhook() async throws -> WebhookDelivery {
        var delivery = WebhookDelivery()
        guard let webhook else { return delivery }
        // Rows retried in this pass are due after the pass began, so the loop ends.
        let start = Date().millisecondsSince1970
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let due = try RunnelError.naming(store.app.path, "reading due webhook notifications") {
                try store.app.read { try NotificationLedger.dueForWebhook(at: start, limit: options.batchSize, in: $0) }
            }
            guard !due.isEmpty else { break }
            for notification in due {
                if Task.isCancelled || Task.isShuttingDownGracefully { return delivery }
                let outcome = await webhook.send(key: notification.key, payload: notification.payload)
                // A send cut short by cancellation is not an attempt: the notification stays due.
                if Task.isCancelled, case .retry = outcome { return delivery }
                Self.sentBeforeCommit.reach()
                let now = Date().millisecondsSince1970
                let retryAt = now + max(1, retryDelay(afterAttempt: notification.attempts + 1).wholeMilliseconds)
                try RunnelError.naming(store.app.path, "recording the webhook delivery of \(notification.key)") {
                    try store.app.write { try NotificationLedger.record(outcome, of: notification.key, at: now, retryAt: retryAt, in: $0) }
                }
                switch outcome {
                case .delivered:
                    webhookCounter.increment()
                    delivery.delivered += 1
                case .retry(let error):
                    retryCounter.increment()
                    delivery.retrying += 1
                    logger.notice("webhook call failed; retrying later", metadata: [
                        "notify.key": "\(notification.key)", "notify.attempt": "\(notification.attempts + 1)", "notify.error": "\(error)",
                    ])
                case .rejected(let error):
                    failedCounter.increment()
                    delivery.failed.append(Failure(key: notification.key, error: error))
                    logger.error("webhook refused a notification; it is not retried", metadata: [
                        "notify.key": "\(notification.key)", "notify.error": "\(error)",
                    ])
                }
            }
        }
        return delivery
    }

    /// The wait after `attempt` failed attempts: the first delay, doubled per attempt after
    /// the first, capped at the maximum.
    func retryDelay(afterAttempt attempt: Int) -> Duration {
        let doublings = min(max(0, attempt - 1), 30)
        let delay = options.firstRetryDelay * (1 << doublings)
        return min(delay, options.maximumRetryDelay)
    }
}
