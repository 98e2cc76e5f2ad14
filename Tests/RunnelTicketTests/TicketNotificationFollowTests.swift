import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

/// Follow mode: changes announced while the service runs are delivered, and cancelling the
/// service's task ends it without an error.
@Suite struct TicketNotificationFollowTests {
    @Test func theFollowerDeliversNewChangesAndStopsWhenCancelled() async throws {
        let temporary = try TemporaryHome(label: "notify-follow")
        let store = try temporary.openStore()
        let notifier = try TicketNotifier(topic: "tickets", store: store)
        let service = TicketNotifierService(notifier: notifier, idleCheckInterval: .milliseconds(20))
        // On a thread of its own: a task started on Swift's cooperative pool could wait for
        // other tests' work longer than the deadline below.
        let running = ServiceThread.task(named: "notify-follow-test") { try await service.run() }

        // Announced after the follower started (the log did not even exist then).
        try await Task.sleep(for: .milliseconds(50))
        let change = AnnouncedChange(ticketId: "00000000f011")
        try TicketNotificationFixtures.announce([change], in: temporary.home)
        let deadline = Date().addingTimeInterval(60)
        var keys: [String] = []
        while true {
            keys = try TicketNotificationFixtures.lines(of: notifier).compactMap { $0["key"] as? String }
            if keys.count >= 2 || Date() >= deadline { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(Set(keys) == Set(change.keys) && keys.count == 2)

        running.cancel()
        let ended = await running.result
        if case .failure(let error) = ended { Issue.record("the follower ended with \(error)") }
    }
}
