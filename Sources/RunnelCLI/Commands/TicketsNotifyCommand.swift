import ArgumentParser
import Foundation
import Logging
import Runnel
import ServiceLifecycle

/// `runnel tickets notify [--webhook URL] [--follow]`: tells ticket owners, once each, that a
/// ticket opened or reopened.
struct TicketsNotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract: "Tell ticket owners about opened and reopened tickets: a line in reports/notifications.jsonl, and a webhook POST.",
        discussion: """
            Reads TicketOpened and TicketReopened from the tickets topic and keeps one notification \
            per change and owner in app.sqlite (runnel_notifications), keyed <ticket>-<opening>-<owner>, \
            so a rebuild of the tickets pipeline tells nobody twice. Each notification is appended once \
            to reports/notifications.jsonl; with --webhook it is also POSTed with the key as \
            Idempotency-Key, retried with backoff on 408, 429, 5xx and network errors, and marked failed \
            on another 4xx. A crash between the receiver's answer and the commit sends it again with \
            the same key. Without --follow, one pass and exit; with --follow, until SIGTERM or SIGINT. \
            Formats and guarantees: docs/tickets.md, Notifications.
            """)

    @Option(help: ArgumentHelp("POST each notification to this URL (default: $RUNNEL_TICKETS_WEBHOOK).", valueName: "url"))
    var webhook: String?
    @Flag(help: "Keep running: deliver new changes as they are announced, and retry failed webhook calls.") var follow = false
    @OptionGroup var home: HomeOptions

    init() {}

    func validate() throws {
        if let url = webhookURL(ProcessInfo.processInfo.environment) {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
                throw ValidationError("--webhook \(url) is not an http:// or https:// URL")
            }
        }
    }

    private func webhookURL(_ environment: [String: String]) -> String? {
        webhook ?? environment["RUNNEL_TICKETS_WEBHOOK"].flatMap { $0.isEmpty ? nil : $0 }
    }

    func run() async throws {
        let context = CLIContext.current
        let console = context.console
        guard let tickets = context.catalog.tickets else {
            throw RunnelError(.tickets, "the \(context.catalog.name) catalog keeps no exception tickets, so there is nobody to notify",
                              hint: "Give the catalog an ExceptionTickets (Catalog(…, tickets:)) to announce tickets on a topic")
        }
        let store = try Store.open(home.resolved)
        let options = TicketNotifier.Options(webhook: webhookURL(ProcessInfo.processInfo.environment).flatMap(URL.init(string:)))
        let logger = Logger(label: "runnel.tickets.notify")
        let notifier = try TicketNotifier(tickets: tickets, store: store, options: options, logger: logger)
        let webhook = options.webhook != nil
        guard follow else {
            // On a thread of its own: the pass blocks on SQLite and fsync.
            let pass = try await ServiceThread.run(named: "runnel.tickets.notify") { try await notifier.notify() }
            Self.print(pass, webhook: webhook, quiet: false, console: console)
            try Self.printBacklog(notifier, webhook: webhook, console: console)
            return
        }
        let service = TicketNotifierService(notifier: notifier, logger: logger) { pass in
            Self.print(pass, webhook: webhook, quiet: true, console: console)
        }
        let group = ServiceGroup(configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        try Self.printBacklog(notifier, webhook: webhook, console: console)
    }

    /// Says what a pass did; `quiet` passes (in follow mode) that did nothing say nothing.
    static func print(_ pass: TicketNotifier.Pass, webhook: Bool, quiet: Bool, console: Console) {
        let collection = pass.collection
        let file = pass.file
        let sent = pass.webhook
        if quiet, collection.changes == 0, file.appended + file.foundInFile == 0, sent.delivered + sent.retrying + sent.failed.count == 0 {
            return
        }
        var collected = "Collected \(collection.notifications) notification\(collection.notifications == 1 ? "" : "s") from \(collection.changes) ticket change\(collection.changes == 1 ? "" : "s")"
        if collection.alreadyCollected > 0 { collected += "; \(collection.alreadyCollected) announced again were already collected" }
        if collection.unowned > 0 { collected += "; \(collection.unowned) change\(collection.unowned == 1 ? " has" : "s have") no owners" }
        if collection.undecodable > 0 { collected += "; \(collection.undecodable) did not decode (see the log)" }
        console.print(collected + ".")
        var written = "File: \(file.appended) appended to reports/notifications.jsonl"
        if file.foundInFile > 0 { written += "; \(file.foundInFile) found already written by an interrupted run" }
        if file.cutBytes > 0 { written += "; cut a torn last line of \(file.cutBytes) bytes" }
        console.print(written + ".")
        if webhook {
            console.print("Webhook: \(sent.delivered) delivered, \(sent.retrying) to retry, \(sent.failed.count) failed.")
        }
        for failure in sent.failed {
            console.note("error: the webhook refused notification \(failure.key), which is not retried: \(failure.error)")
        }
    }

    /// Says what is still owed after the pass or the follow ended.
    private static func printBacklog(_ notifier: TicketNotifier, webhook: Bool, console: Console) throws {
        let counts = try notifier.counts()
        if counts.webhookPending > 0 {
            let next = try notifier.nextWebhookAttempt().map { " (next attempt \($0.iso8601()))" } ?? ""
            console.print(webhook
                ? "\(counts.webhookPending) webhook notification\(counts.webhookPending == 1 ? " is" : "s are") waiting to be retried\(next)."
                : "\(counts.webhookPending) webhook notification\(counts.webhookPending == 1 ? " is" : "s are") pending; give --webhook URL to deliver them.")
        }
        if counts.webhookFailed > 0 {
            console.note("warning: \(counts.webhookFailed) notification\(counts.webhookFailed == 1 ? " was" : "s were") refused by the webhook; `runnel inspect sql \"SELECT key, last_error FROM runnel_notifications WHERE webhook_state = 'failed'\"` says why.")
        }
    }
}
