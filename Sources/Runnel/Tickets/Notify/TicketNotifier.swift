import Foundation
import GRDB
import Logging
import Metrics
import Synchronization

/// Tells a ticket's owners, once each, that it opened or reopened.
///
/// A notifier reads `TicketOpened` and `TicketReopened` from the tickets topic and keeps one
/// notification per change and owner in `app.sqlite` (``collect()``), then delivers each one
/// to `reports/notifications.jsonl` and, when a webhook is configured, to the webhook
/// (``deliver()``). ``notify()`` does both; ``TicketNotifierService`` does it as the log grows.
///
/// ```swift
/// let notifier = try TicketNotifier(tickets: catalog.tickets!, store: store,
///                                   options: .init(webhook: URL(string: "https://alerts.example.com/tickets")))
/// let pass = try await notifier.notify()
/// print(pass.collection.notifications, pass.webhook.delivered)
/// ```
///
/// A change (ticket and opening) is collected once, and each notification's key is
/// `<ticketId>-<opening>-<owner>`, so a rebuild of the tickets pipeline, which announces the
/// same changes again (with the service's owners of now), adds nothing. The file gets each key once,
/// even across crashes; the webhook gets each key at least once and, after a crash between the
/// receiver's answer and the commit, again with the same `Idempotency-Key`. The guarantees and
/// formats are written down in the Notifications section of `docs/tickets.md`.
///
/// The notifier locks the file while it lives: one notifier per home.
public final class TicketNotifier: Sendable {
    /// Where notifications go and how failed webhook calls are retried.
    public struct Options: Sendable {
        /// Where to POST each notification, or nil for the file only.
        public var webhook: URL?
        /// The file channel's file; nil is `<home>/reports/notifications.jsonl`. The notifier
        /// locks it, which is what keeps a second notifier out: give every notifier of a home
        /// the same file, or two of them would each call the webhook.
        public var file: URL?
        /// The wait after a webhook call's first failure; it doubles with each attempt after.
        public var firstRetryDelay: Duration
        /// The longest wait between webhook attempts.
        public var maximumRetryDelay: Duration
        /// How long a webhook call may take, connecting and the answer included (a 2xx's body
        /// is not read; another status's is read until then).
        public var requestTimeout: Duration
        /// Changes read, and notifications delivered, per transaction.
        public var batchSize: Int

        /// - Parameters:
        ///   - webhook: Where to POST each notification, or nil for the file only.
        ///   - file: The file channel's file; nil is `<home>/reports/notifications.jsonl`.
        ///   - firstRetryDelay: The wait after a first failure (1 s), doubling after each attempt.
        ///   - maximumRetryDelay: The cap on that wait (5 minutes).
        ///   - requestTimeout: How long one webhook call may take (10 s).
        ///   - batchSize: Changes read and notifications delivered per transaction (500).
        public init(webhook: URL? = nil, file: URL? = nil, firstRetryDelay: Duration = .seconds(1), maximumRetryDelay: Duration = .seconds(300),
                    requestTimeout: Duration = .seconds(10), batchSize: Int = 500) {
            self.webhook = webhook
            self.file = file
            self.firstRetryDelay = firstRetryDelay
            self.maximumRetryDelay = maximumRetryDelay
            self.requestTimeout = requestTimeout
            self.batchSize = batchSize
        }
    }

    /// The home's databases.
    public let store: Store
    /// The tickets topic.
    public let topic: String
    /// The channels and retry delays.
    public let options: Options
    /// The file channel's file.
    public let fileURL: URL
    let file: NotificationFile
    let webhook: WebhookChannel?
    let logger: Logger
    /// The log, once it exists: a notifier may start before anything was relayed.
    private let log = Mutex<Log?>(nil)

    // Created once per notifier, with bounded dimensions: the channel and the outcome.
    let collectedCounter = Counter(label: "runnel_notifications_collected_total")
    let fileCounter = Counter(label: "runnel_notifications_delivered_total", dimensions: [("channel", "file")])
    let webhookCounter = Counter(label: "runnel_notifications_delivered_total", dimensions: [("channel", "webhook")])
    let retryCounter = Counter(label: "runnel_notifications_webhook_retries_total")
    let failedCounter = Counter(label: "runnel_notifications_webhook_failed_total")

    static let appendedBeforeCommit = FaultPoint("notify-appended-before-commit")
    static let sentBeforeCommit = FaultPoint("notify-sent-before-commit")

    /// Creates the notifier of a catalog's tickets.
    /// - Throws: ``RunnelError`` `.tickets` when another notifier holds the file; `.io` when it
    ///   cannot be created; `.invalidArgument` for a webhook URL that is not http(s) or bad options.
    public convenience init(tickets: ExceptionTickets, store: Store, options: Options = Options(),
                            logger: Logger = Logger(label: "runnel.tickets.notify")) throws {
        try self.init(topic: tickets.ticketsTopic, store: store, options: options, logger: logger)
    }

    /// Creates a notifier reading `topic`.
    /// - Parameters:
    ///   - topic: The tickets topic (``ExceptionTickets/ticketsTopic``).
    ///   - store: The home's databases; the notification tables are in `app.sqlite`.
    ///   - options: The channels and retry delays.
    ///   - logger: Where the notifier logs what it delivered and what failed.
    /// - Throws: As ``init(tickets:store:options:logger:)``.
    public init(topic: String, store: Store, options: Options = Options(), logger: Logger = Logger(label: "runnel.tickets.notify")) throws {
        if let webhook = options.webhook {
            guard ["http", "https"].contains(webhook.scheme?.lowercased() ?? ""), webhook.host != nil else {
                throw RunnelError(.invalidArgument, "the webhook \(webhook.absoluteString) is not an http:// or https:// URL",
                                  hint: "Give a full URL, such as https://alerts.example.com/tickets")
            }
        }
        guard options.batchSize > 0, options.firstRetryDelay > .zero, options.maximumRetryDelay >= options.firstRetryDelay else {
            throw RunnelError(.invalidArgument, "notifier options need a positive batch size and retry delays with the first at most the maximum")
        }
        self.store = store
        self.topic = topic
        self.options = options
        self.logger = logger
        fileURL = options.file ?? store.home.reportsURL.appendingPathComponent(NotificationFile.name)
        file = try NotificationFile(fileURL)
        webhook = options.webhook.map { WebhookChannel(url: $0, timeout: options.requestTimeout) }
    }

    // MARK: - One pass

    /// What one pass did.
    public struct Pass: Sendable {
        /// What was read from the tickets topic.
        public var collection = Collected()
        /// What went to the file.
        public var file = FileDelivery()
        /// What went to the webhook.
        public var webhook = WebhookDelivery()
    }

    /// Collects what the tickets topic announced since the last pass and delivers every
    /// notification that is due.
    /// - Throws: ``RunnelError`` for a log or database failure; a webhook that fails is not an
    ///   error (see ``WebhookDelivery``).
    public func notify() async throws -> Pass {
        var pass = Pass()
        pass.collection = try collect()
        pass.file = try deliverToFile()
        pass.webhook = try await deliverToWebhook()
        return pass
    }

    /// Delivers every due notification to the file and the webhook, without collecting.
    public func deliver() async throws -> (file: FileDelivery, webhook: WebhookDelivery) {
        (try deliverToFile(), try await deliverToWebhook())
    }

    // MARK: - State

    /// How many notifications are in each state.
    public struct Counts: Sendable, Hashable {
        /// Every notification collected.
        public var total = 0
        /// Not yet in the file.
        public var filePending = 0
        /// Waiting for a webhook attempt (retries included).
        public var webhookPending = 0
        /// Taken by the webhook (2xx).
        public var webhookDelivered = 0
        /// Refused by the webhook for good; `last_error` says why.
        public var webhookFailed = 0
    }

    /// How many notifications are in each state.
    public func counts() throws -> Counts {
        try RunnelError.naming(store.app.path, "reading runnel_notifications") {
            try store.app.read(NotificationLedger.counts)
        }
    }

    /// When the next webhook attempt is due; nil without a webhook or with nothing pending.
    public func nextWebhookAttempt() throws -> Date? {
        guard webhook != nil else { return nil }
        return try store.app.read(NotificationLedger.nextWebhookAttempt).map(Date.init(millisecondsSince1970:))
    }

    /// The log, opened once its folder exists.
    func openLog() throws -> Log? {
        if let log = log.withLock({ $0 }) { return log }
        guard FileManager.default.fileExists(atPath: store.home.logURL.path) else { return nil }
        let opened = try Log.openForReading(store.home.logURL)
        log.withLock { $0 = opened }
        return opened
    }
}
