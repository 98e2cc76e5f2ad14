import Foundation
import Runnel
import RunnelCLI
import RunnelTesting
import Testing

/// `notify` in-process: what it prints, and its refusals.
@Suite struct TicketNotificationCommandTests {
    /// Console output collected across threads.
    final class Transcript: @unchecked Sendable {
        // @unchecked: `output` and `error` are only touched under `lock`.
        private let lock = NSLock()
        private var output = ""
        private var error = ""

        var console: Console {
            Console(output: { text in self.lock.withLock { self.output += text } },
                    error: { text in self.lock.withLock { self.error += text } })
        }

        var texts: (output: String, error: String) { lock.withLock { (output, error) } }
    }

    static func notify(_ arguments: [String], catalog: Catalog) async -> (status: Int32, output: String, error: String) {
        let transcript = Transcript()
        let status = await RunnelCommand.run(["tickets", "notify"] + arguments, catalog: catalog, console: transcript.console)
        return (status, transcript.texts.output, transcript.texts.error)
    }

    @Test func aPassSaysWhatItCollectedAndWroteAndARepeatFindsNothing() async throws {
        let temporary = try TemporaryHome(label: "notify-command")
        _ = try temporary.openStore()
        try TicketNotificationFixtures.announce([AnnouncedChange(ticketId: "0000000c0de1")], in: temporary.home)
        let catalog = Catalog(name: "shop", tickets: TicketPipelineFixtures.tickets())

        let first = await Self.notify(["--home", temporary.home.url.path], catalog: catalog)
        #expect(first.status == 0, "\(first.error)")
        #expect(first.output.contains("Collected 2 notifications from 1 ticket change."), "\(first.output)")
        #expect(first.output.contains("File: 2 appended to reports/notifications.jsonl."), "\(first.output)")
        #expect(!first.output.contains("Webhook:"))
        #expect(try TicketNotificationFixtures.lines(at: temporary.home.reportsURL.appendingPathComponent("notifications.jsonl")).count == 2)

        let again = await Self.notify(["--home", temporary.home.url.path], catalog: catalog)
        #expect(again.status == 0, "\(again.error)")
        #expect(again.output.contains("Collected 0 notifications from 0 ticket changes."), "\(again.output)")
        #expect(try TicketNotificationFixtures.lines(at: temporary.home.reportsURL.appendingPathComponent("notifications.jsonl")).count == 2)
    }

    @Test func aRefusedNotificationIsPrintedAsAnError() async throws {
        let temporary = try TemporaryHome(label: "notify-command-4xx")
        _ = try temporary.openStore()
        try TicketNotificationFixtures.announce([AnnouncedChange(ticketId: "0000000c0de2", owners: ["nobody@example.com"])], in: temporary.home)
        let receiver = try WebhookReceiver { _ in (404, "no such hook") }
        try receiver.start()
        defer { receiver.stop() }
        let result = await Self.notify(["--home", temporary.home.url.path, "--webhook", receiver.url.absoluteString],
                                       catalog: Catalog(name: "shop", tickets: TicketPipelineFixtures.tickets()))
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("Webhook: 0 delivered, 0 to retry, 1 failed."), "\(result.output)")
        #expect(result.error.contains("error: the webhook refused notification 0000000c0de2-1-nobody@example.com"), "\(result.error)")
        #expect(result.error.contains("HTTP 404"), "\(result.error)")
        #expect(result.error.contains("1 notification was refused by the webhook"), "\(result.error)")
    }

    @Test func aCatalogWithoutTicketsAndABadURLAreRefused() async throws {
        let temporary = try TemporaryHome(label: "notify-command-refused")
        let none = await Self.notify(["--home", temporary.home.url.path], catalog: Catalog(name: "shop"))
        #expect(none.status == 1)
        #expect(none.error.contains("the shop catalog keeps no exception tickets"), "\(none.error)")

        let bad = await Self.notify(["--home", temporary.home.url.path, "--webhook", "mailto:ops@example.com"],
                                    catalog: Catalog(name: "shop", tickets: TicketPipelineFixtures.tickets()))
        #expect(bad.status == 64)
        #expect(bad.error.contains("is not an http:// or https:// URL"), "\(bad.error)")
    }
}
