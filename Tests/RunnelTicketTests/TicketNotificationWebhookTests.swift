import Foundation
import GRDB
@testable import Runnel
import RunnelTesting
import Synchronization
import Testing

/// The webhook channel against a receiver on 127.0.0.1: retried while it is down or failing,
/// delivered once it answers 2xx, and a refusal kept visible instead of retried.
@Suite struct TicketNotificationWebhookTests {
    static func options(_ receiver: WebhookReceiver) -> TicketNotifier.Options {
        TicketNotifier.Options(webhook: receiver.url, firstRetryDelay: .milliseconds(20), maximumRetryDelay: .milliseconds(80),
                               requestTimeout: .seconds(5))
    }

    /// Runs webhook deliveries until nothing is pending, or fails after `seconds`.
    static func deliverUntilDone(_ notifier: TicketNotifier, seconds: Double = 60) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while try notifier.counts().webhookPending > 0 {
            guard Date() < deadline else {
                Issue.record("webhook notifications still pending after \(seconds) s")
                return
            }
            _ = try await notifier.deliverToWebhook()
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test func aReceiverThatIsDownThenUpGetsEachNotificationOnce() async throws {
        let temporary = try TemporaryHome(label: "notify-webhook")
        let store = try temporary.openStore()
        let changes = (1...3).map { AnnouncedChange(ticketId: String(format: "%012d", $0)) }
        try TicketNotificationFixtures.announce(changes, in: temporary.home)
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let notifier = try TicketNotifier(topic: "tickets", store: store, options: Self.options(receiver))

        // Down: every call is refused, and retried after a backoff.
        let down = try await notifier.notify()
        #expect(down.collection.notifications == 6)
        #expect(down.file.appended == 6, "the file channel does not wait for the webhook")
        #expect(down.webhook.retrying == 6 && down.webhook.delivered == 0)
        try await Task.sleep(for: .milliseconds(40))
        _ = try await notifier.deliverToWebhook()
        let key = changes[0].keys[0]
        let failing = try #require(try TicketNotificationFixtures.row(key, in: store))
        #expect(failing["webhook_state"] as String == "pending")
        #expect(failing["attempts"] as Int >= 2)
        #expect((failing["last_error"] as String?)?.contains("127.0.0.1:\(receiver.port)") == true)
        #expect(try notifier.nextWebhookAttempt() != nil)

        try receiver.start()
        try await Self.deliverUntilDone(notifier)
        let requests = receiver.requests
        let expected = Set(changes.flatMap(\.keys))
        #expect(requests.count == expected.count, "\(requests.count) requests for \(expected.count) notifications")
        #expect(Set(requests.compactMap(\.key)) == expected)
        for request in requests {
            #expect(request.contentType == "application/json")
            let body = try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any]
            #expect(body?["key"] as? String == request.key, "the Idempotency-Key is not the notification's key")
            let stored = try #require(try TicketNotificationFixtures.row(request.key ?? "", in: store))
            #expect(stored["payload"] as String == request.body)
            #expect(stored["webhook_state"] as String == "delivered")
            #expect(stored["attempts"] as Int > 1)
            #expect(stored["delivered_at"] as Int64? != nil)
        }
        // The file got the same bodies, once each.
        let lines = try String(contentsOf: notifier.fileURL, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(Set(lines) == Set(requests.map(\.body)) && lines.count == expected.count)
        // Nothing is sent again.
        #expect(try await notifier.deliverToWebhook() == TicketNotifier.WebhookDelivery())
        #expect(receiver.requests.count == expected.count)
    }

    @Test func aRefusalIsFailedAndVisibleAndAServerErrorIsRetried() async throws {
        let temporary = try TemporaryHome(label: "notify-webhook-4xx")
        let store = try temporary.openStore()
        let change = AnnouncedChange(ticketId: "0000000000aa", owners: ["known@example.com", "unknown@example.com", "flaky@example.com"])
        try TicketNotificationFixtures.announce([change], in: temporary.home)
        let flakyCalls = CallCount()
        let receiver = try WebhookReceiver { request in
            if request.key?.hasSuffix("unknown@example.com") == true { return (422, "no such owner: unknown@example.com") }
            if request.key?.hasSuffix("flaky@example.com") == true, flakyCalls.next() == 1 { return (503, "busy") }
            return (200, "ok")
        }
        try receiver.start()
        defer { receiver.stop() }
        let notifier = try TicketNotifier(topic: "tickets", store: store, options: Self.options(receiver))

        let pass = try await notifier.notify()
        #expect(pass.webhook.delivered == 1)
        #expect(pass.webhook.retrying == 1)
        let refused = "0000000000aa-1-unknown@example.com"
        #expect(pass.webhook.failed.map(\.key) == [refused])
        #expect(pass.webhook.failed.first?.error.contains("HTTP 422") == true)
        let row = try #require(try TicketNotificationFixtures.row(refused, in: store))
        #expect(row["webhook_state"] as String == "failed")
        #expect((row["last_error"] as String?)?.contains("HTTP 422") == true)
        #expect((row["last_error"] as String?)?.contains("no such owner") == true)

        try await Self.deliverUntilDone(notifier)
        let counts = try notifier.counts()
        #expect(counts.webhookDelivered == 2 && counts.webhookFailed == 1 && counts.webhookPending == 0)
        let flaky = try #require(try TicketNotificationFixtures.row("0000000000aa-1-flaky@example.com", in: store))
        #expect(flaky["attempts"] as Int == 2)
        #expect((flaky["last_error"] as String?)?.contains("HTTP 503") == true)
        // The refusal is not retried.
        #expect(receiver.requests.filter { $0.key == refused }.count == 1)
    }

    /// A receiver that sends an answer's head and then stalls its body does not hold the pass
    /// (the request's timeout covers the head only): a 2xx is delivered without its body, and a
    /// 5xx is retried with what of its body came before the timeout.
    @Test func anAnswerWhoseBodyStallsDoesNotHoldThePass() async throws {
        let temporary = try TemporaryHome(label: "notify-webhook-stall")
        let store = try temporary.openStore()
        let change = AnnouncedChange(ticketId: "0000000000cc", owners: ["taken@example.com", "busy@example.com"])
        try TicketNotificationFixtures.announce([change], in: temporary.home)
        let receiver = try WebhookReceiver(stalls: true) { request in
            request.key?.hasSuffix("busy@example.com") == true ? (503, "busy") : (200, "ok")
        }
        try receiver.start()
        defer { receiver.stop() }
        let notifier = try TicketNotifier(topic: "tickets", store: store, options: .init(
            webhook: receiver.url, firstRetryDelay: .seconds(60), maximumRetryDelay: .seconds(60), requestTimeout: .seconds(2)))

        // A guard, not a timing: a pass still waiting after 30 s is reported, and the receiver
        // closes its connections so the test ends instead of hanging.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(30))
            Issue.record("the pass still waits for a body that never comes")
            receiver.stop()
        }
        defer { watchdog.cancel() }
        let pass = try await notifier.notify()
        watchdog.cancel()

        #expect(pass.webhook.delivered == 1 && pass.webhook.retrying == 1)
        let taken = try #require(try TicketNotificationFixtures.row("0000000000cc-1-taken@example.com", in: store))
        #expect(taken["webhook_state"] as String == "delivered")
        let busy = try #require(try TicketNotificationFixtures.row("0000000000cc-1-busy@example.com", in: store))
        #expect(busy["webhook_state"] as String == "pending")
        #expect((busy["last_error"] as String?)?.contains("HTTP 503") == true)
        #expect((busy["last_error"] as String?)?.contains("busy") == true, "\(busy["last_error"] as String? ?? "")")
    }

    @Test func theRetryDelayDoublesUpToItsCap() throws {
        let temporary = try TemporaryHome(label: "notify-backoff")
        let store = try temporary.openStore()
        let notifier = try TicketNotifier(topic: "tickets", store: store, options: .init(webhook: URL(string: "http://127.0.0.1:9/x")))
        #expect([1, 2, 3, 9, 10, 100].map(notifier.retryDelay(afterAttempt:)) == [.seconds(1), .seconds(2), .seconds(4), .seconds(256), .seconds(300), .seconds(300)])
        #expect(throws: RunnelError.self) {
            _ = try TicketNotifier(topic: "tickets", store: store, options: .init(webhook: URL(string: "ftp://example.com/x")))
        }
    }
}

/// Calls counted across the receiver's threads.
final class CallCount: Sendable {
    private let count = Mutex(0)

    func next() -> Int { count.withLock { $0 += 1; return $0 } }
}
