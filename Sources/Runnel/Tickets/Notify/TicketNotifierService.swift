import Foundation
import Logging
import ServiceLifecycle

/// A notifier in follow mode: collects and delivers as the tickets topic grows, and retries
/// webhook calls when their backoff ends, until a graceful shutdown (SIGTERM) or cancellation,
/// which it honours between sends, so the outcome of the send in hand is committed first.
///
/// Like ``PipelineService`` it runs on a thread of its own and is woken by appends to the log
/// (in this process at once, by other processes through the file watcher), looking at least
/// every ``idleCheckInterval`` and when the next retry is due.
public struct TicketNotifierService: Service {
    /// The notifier the service runs.
    public let notifier: TicketNotifier
    /// How often the follower looks at the log when nothing woke it.
    public var idleCheckInterval: Duration
    private let onPass: @Sendable (TicketNotifier.Pass) -> Void
    private let logger: Logger

    /// - Parameters:
    ///   - notifier: The notifier to run.
    ///   - idleCheckInterval: How often to look without a wake-up; nil picks 1 s where the
    ///     system has a file watcher and 10 ms where it does not.
    ///   - logger: Where the service logs its start and stop.
    ///   - onPass: Called after each pass (to print what it did).
    public init(notifier: TicketNotifier, idleCheckInterval: Duration? = nil, logger: Logger = Logger(label: "runnel.tickets.notify"),
                onPass: @escaping @Sendable (TicketNotifier.Pass) -> Void = { _ in }) {
        self.notifier = notifier
        self.idleCheckInterval = idleCheckInterval ?? FileWatcher.idleCheckInterval
        self.logger = logger
        self.onPass = onPass
    }

    /// Follows the tickets topic until a graceful shutdown or cancellation.
    /// - Throws: What a pass throws (a damaged log, a database failure); a failed webhook call
    ///   is retried, not thrown.
    public func run() async throws {
        try await ServiceThread.run(named: "runnel.tickets.notify") { try await follow() }
    }

    private func follow() async throws {
        let signal = ChangeSignal()
        let logURL = notifier.store.home.logURL
        let notices = LogAppendNotices.subscribe(signal, toLogIn: logURL)
        defer { LogAppendNotices.unsubscribe(notices) }
        let subscription = FileWatcher.shared?.subscribe(signal, to: [])
        defer { subscription.map { FileWatcher.shared?.cancel($0) } }
        var watched = 0
        logger.info("notifier following the tickets topic", metadata: ["notify.topic": "\(notifier.topic)"])
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let pass = try await notifier.notify()
            onPass(pass)
            // The log, the topic and its partitions appear as the relay creates them: watch
            // the new folders, then look once more.
            let folders = watchedFolders(logURL)
            if let subscription, folders.count != watched {
                FileWatcher.shared?.add(folders, to: subscription)
                watched = folders.count
                continue
            }
            var timeout = idleCheckInterval
            if let next = try notifier.nextWebhookAttempt() {
                let wait = Duration.milliseconds(max(0, next.millisecondsSince1970 - Date().millisecondsSince1970))
                timeout = min(timeout, wait)
            }
            if timeout > .zero { await signal.wait(timeout: timeout) }
        }
        logger.info("notifier stopping", metadata: ["notify.topic": "\(notifier.topic)"])
    }

    /// The folders whose changes can bring new changes: those that exist of the log's, the
    /// topic's and its partitions'.
    private func watchedFolders(_ logURL: URL) -> [URL] {
        let topicURL = logURL.appendingPathComponent(notifier.topic, isDirectory: true)
        let partitions = ((try? FileManager.default.contentsOfDirectory(atPath: topicURL.path)) ?? [])
            .map { topicURL.appendingPathComponent($0, isDirectory: true) }
            .filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true }
        return [logURL, topicURL].filter { FileManager.default.fileExists(atPath: $0.path) } + partitions.sorted { $0.path < $1.path }
    }
}
