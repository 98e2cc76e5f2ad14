import Foundation
import GRDB
@testable import Runnel
import RunnelTesting
import Testing

/// The file channel across crashes: a pass that appended and died before its commit, and one
/// that died mid-line, leave every key in `notifications.jsonl` exactly once after the next pass.
@Suite struct TicketNotificationFileTests {
    /// Collects `changes` without delivering them.
    private func collect(_ changes: [AnnouncedChange], temporary: TemporaryHome, store: Store) throws -> [(key: String, payload: String)] {
        try TicketNotificationFixtures.announce(changes, in: temporary.home)
        let notifier = try TicketNotifier(topic: "tickets", store: store)
        _ = try notifier.collect()
        return try store.app.read { db in
            try Row.fetchAll(db, sql: "SELECT key, payload FROM runnel_notifications WHERE file_state = 'pending' ORDER BY rowid")
                .map { ($0["key"], $0["payload"]) }
        }
    }

    @Test func linesAppendedBeforeACrashAreNotWrittenTwiceAndATornLineIsReplaced() async throws {
        let temporary = try TemporaryHome(label: "notify-file")
        let store = try temporary.openStore()
        // Two notifications delivered and committed before the crash.
        let earlier = AnnouncedChange(ticketId: "000000000001", owners: ["early@example.com", "oncall@example.com"])
        try TicketNotificationFixtures.announce([earlier], in: temporary.home)
        do {
            let notifier = try TicketNotifier(topic: "tickets", store: store)
            #expect(try await notifier.notify().file.appended == 2)
        }
        let file = temporary.home.reportsURL.appendingPathComponent("notifications.jsonl")
        let committed = try Data(contentsOf: file)

        // The crashed pass: three pending; two whole lines and half of the third reached the
        // file, and the process died before marking any of them.
        let pending = try collect([AnnouncedChange(ticketId: "000000000002", owners: ["a@example.com", "b@example.com", "c@example.com"])],
                                  temporary: temporary, store: store)
        try #require(pending.count == 3)
        var crashed = committed
        crashed.append(Data((pending[0].payload + "\n" + pending[1].payload + "\n").utf8))
        let torn = Data(pending[2].payload.utf8).prefix(pending[2].payload.utf8.count / 2)
        crashed.append(torn)
        try crashed.write(to: file)

        let notifier = try TicketNotifier(topic: "tickets", store: store)
        let delivery = try notifier.deliverToFile()
        #expect(delivery.appended == 1)
        #expect(delivery.foundInFile == 2)
        #expect(delivery.cutBytes == torn.count)

        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.hasPrefix(String(decoding: committed, as: UTF8.self)), "the lines committed before the crash changed")
        #expect(text.hasSuffix("\n"))
        let keys = try TicketNotificationFixtures.lines(at: file).map { $0["key"] as? String }
        #expect(keys.count == 5)
        #expect(Set(keys.compactMap { $0 }) == Set(earlier.keys + pending.map(\.key)), "a key is missing, doubled or a line does not parse")
        #expect(try notifier.counts().filePending == 0)
        // The next pass finds nothing to do.
        #expect(try notifier.deliverToFile() == TicketNotifier.FileDelivery())
        #expect(try TicketNotificationFixtures.lines(at: file).count == 5)
    }

    @Test func aFileTruncatedByHandIsReadFromItsStart() async throws {
        let temporary = try TemporaryHome(label: "notify-file-rotated")
        let store = try temporary.openStore()
        try TicketNotificationFixtures.announce([AnnouncedChange(ticketId: "000000000003")], in: temporary.home)
        do { _ = try await TicketNotifier(topic: "tickets", store: store).notify() }
        let file = temporary.home.reportsURL.appendingPathComponent("notifications.jsonl")
        // Emptied while no notifier ran, then a pass crashed after appending one pending line.
        let pending = try collect([AnnouncedChange(ticketId: "000000000004", owners: ["solo@example.com"])], temporary: temporary, store: store)
        try Data((pending[0].payload + "\n").utf8).write(to: file)
        let notifier = try TicketNotifier(topic: "tickets", store: store)
        let delivery = try notifier.deliverToFile()
        #expect(delivery.appended == 0 && delivery.foundInFile == 1)
        #expect(try TicketNotificationFixtures.lines(at: file).count == 1)
    }

    /// The file is emptied by hand while no notifier runs, then a pass appends more bytes than
    /// the last commit recorded and is killed before its commit: the file no longer holds the
    /// committed bytes, so it is read from its start, and every key stays in it once.
    @Test func aFileEmptiedThenRefilledPastTheCommittedSizeIsReadFromItsStart() async throws {
        let temporary = try TemporaryHome(label: "notify-file-refilled")
        let store = try temporary.openStore()
        try TicketNotificationFixtures.announce([AnnouncedChange(ticketId: "000000000005", owners: ["a@example.com", "b@example.com"])],
                                                in: temporary.home)
        do { _ = try await TicketNotifier(topic: "tickets", store: store).notify() }
        let file = temporary.home.reportsURL.appendingPathComponent("notifications.jsonl")
        let committed = try Data(contentsOf: file).count

        let pending = try collect([AnnouncedChange(ticketId: "000000000006", owners: ["c@example.com", "dd@example.com", "eee@example.com"])],
                                  temporary: temporary, store: store)
        let appended = Data(pending.map { $0.payload + "\n" }.joined().utf8)
        try #require(appended.count > committed)
        try appended.write(to: file)

        let notifier = try TicketNotifier(topic: "tickets", store: store)
        let delivery = try notifier.deliverToFile()
        #expect(delivery.appended == 0 && delivery.foundInFile == 3)
        let keys = try TicketNotificationFixtures.lines(at: file).map { $0["key"] as? String }
        #expect(keys == pending.map(\.key), "a key is missing or doubled")
    }

    @Test func aSecondNotifierOnTheSameHomeIsRefused() throws {
        let temporary = try TemporaryHome(label: "notify-lock")
        let store = try temporary.openStore()
        let first = try TicketNotifier(topic: "tickets", store: store)
        #expect(throws: RunnelError.self) { _ = try TicketNotifier(topic: "tickets", store: store) }
        withExtendedLifetime(first) {}
    }
}
