import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

/// Collection: one notification per change and owner, and none for a change announced again.
@Suite struct TicketNotificationCollectTests {
    @Test func eachOwnerIsNotifiedOnceAndAReannouncedChangeAddsNothing() async throws {
        let temporary = try TemporaryHome(label: "notify-collect")
        let store = try temporary.openStore()
        let opened = AnnouncedChange(ticketId: "a1b2c3d4e5f6")
        try TicketNotificationFixtures.announce([opened], in: temporary.home)

        let notifier = try TicketNotifier(topic: "tickets", store: store)
        let first = try await notifier.notify()
        #expect(first.collection.changes == 1)
        #expect(first.collection.notifications == 2)
        #expect(first.file.appended == 2)
        var lines = try TicketNotificationFixtures.lines(of: notifier)
        #expect(lines.compactMap { $0["key"] as? String }.sorted() == opened.keys.sorted())
        let line = try #require(lines.first { $0["owner"] as? String == "pay-team@example.com" })
        #expect(line["ticket_id"] as? String == "a1b2c3d4e5f6")
        #expect(line["change"] as? String == "opened")
        #expect(line["reason"] as? String == "new")
        #expect(line["service"] as? String == "checkout")
        #expect(line["exception_type"] as? String == "java.util.concurrent.TimeoutException")
        #expect(line["title"] as? String == "Timed out after <n> ms")
        #expect(line["at"] as? String == "2026-01-05T00:00:00.125Z")
        #expect(line["first_seen"] as? String == "2026-01-05T00:00:00.125Z")
        #expect(line["version"] as? String == "2.4.1")
        #expect(line["resolved_in_version"] is NSNull)
        #expect(line["message"] as? String == "Timed out after 150 ms")

        // A rebuild announces the same change again at a new offset; a regression comes after.
        let regressed = AnnouncedChange(ticketId: "a1b2c3d4e5f6", reason: "regressed", opening: 2,
                                        resolvedAt: Date(timeIntervalSince1970: 1_767_600_000), resolvedInVersion: "2.4.0")
        try TicketNotificationFixtures.announce([opened, regressed], in: temporary.home)
        let second = try await notifier.notify()
        #expect(second.collection.changes == 2)
        #expect(second.collection.notifications == 2)
        #expect(second.collection.alreadyCollected == 2)
        lines = try TicketNotificationFixtures.lines(of: notifier)
        let keys = lines.compactMap { $0["key"] as? String }
        #expect(keys.count == 4)
        #expect(Set(keys) == Set(opened.keys + regressed.keys))
        #expect(lines.filter { $0["change"] as? String == "reopened" }.count == 2)
        #expect(lines.first { $0["key"] as? String == regressed.keys[0] }?["resolved_in_version"] as? String == "2.4.0")

        // Reading the whole topic again (offsets lost) still tells nobody twice.
        try await store.app.write { try $0.execute(sql: "DELETE FROM runnel_notification_offsets") }
        let replay = try await notifier.notify()
        #expect(replay.collection.changes == 3)
        #expect(replay.collection.notifications == 0)
        #expect(replay.file.appended == 0)
        #expect(try TicketNotificationFixtures.lines(of: notifier).count == 4)
        let counts = try notifier.counts()
        #expect(counts.total == 4 && counts.filePending == 0 && counts.webhookPending == 0)
    }

    /// End to end: the tickets pipeline announces through derived.sqlite's outbox, the relay
    /// publishes, the notifier collects; then the pipeline is rebuilt and announces every change
    /// again, and nobody is told twice.
    @Test func aRebuildOfTheTicketsPipelineTellsNobodyTwice() async throws {
        let tickets = TicketPipelineFixtures.tickets()
        let driver = try PipelineTestDriver(tickets.pipeline)
        try driver.send(TicketPipelineFixtures.exception(at: 1))
        try driver.send(TicketPipelineFixtures.exception("search", type: "java.lang.NullPointerException", message: "boom",
                                                         frames: TicketPipelineFixtures.nullTrace, at: 2))
        try driver.run()
        _ = try OutboxRelay(store: driver.store, log: driver.log).drain()

        let notifier = try TicketNotifier(tickets: tickets, store: driver.store)
        let first = try await notifier.notify()
        // checkout has two owners, search one.
        #expect(first.collection.notifications == 3)
        #expect(first.file.appended == 3)

        try driver.replace(with: tickets.pipeline, rebuild: true)
        try driver.run()
        let relayed = try OutboxRelay(store: driver.store, log: driver.log).drain()
        #expect(relayed.relayed > 0, "the rebuild announced nothing again; the test would prove nothing")
        let second = try await notifier.notify()
        #expect(second.collection.changes == 2)
        #expect(second.collection.notifications == 0)
        #expect(second.collection.alreadyCollected == 3)
        let keys = try TicketNotificationFixtures.lines(of: notifier).compactMap { $0["key"] as? String }
        #expect(keys.count == 3 && Set(keys).count == 3)
    }

    /// After `assignOwner` moves a service, a rebuild of the tickets pipeline announces every
    /// past opening again with the new owner: a change is told to the owners it named when it
    /// was first collected, and the new owner hears of the openings that come after.
    @Test func aRebuildAfterAnOwnerChangeTellsTheNewOwnerOnlyOfNewOpenings() async throws {
        let temporary = try TemporaryHome(label: "notify-owner-moved")
        let store = try temporary.openStore()
        let notifier = try TicketNotifier(topic: "tickets", store: store)
        let opened = AnnouncedChange(ticketId: "0000000000b1", owners: ["a-team@example.com"])
        try TicketNotificationFixtures.announce([opened], in: temporary.home)
        #expect(try await notifier.notify().collection.notifications == 1)

        var rebuilt = opened
        rebuilt.owners = ["b-team@example.com"]
        try TicketNotificationFixtures.announce([rebuilt], in: temporary.home)
        let afterRebuild = try await notifier.notify()
        #expect(afterRebuild.collection.changes == 1)
        #expect(afterRebuild.collection.notifications == 0)
        #expect(afterRebuild.collection.alreadyCollected == 1)
        #expect(try notifier.counts().total == 1)

        // The ticket reopens: the owner of now is told.
        let reopened = AnnouncedChange(ticketId: "0000000000b1", reason: "returned", opening: 2, owners: ["b-team@example.com"])
        try TicketNotificationFixtures.announce([reopened], in: temporary.home)
        #expect(try await notifier.notify().collection.notifications == 1)
        let keys = try TicketNotificationFixtures.lines(of: notifier).compactMap { $0["key"] as? String }
        #expect(keys == ["0000000000b1-1-a-team@example.com", "0000000000b1-2-b-team@example.com"])
    }

    /// An opening collected while its service had no owner is not told to an owner assigned
    /// later, when a rebuild announces it again: no pass without the rebuild would tell them.
    @Test func anOpeningCollectedWithoutOwnersIsNotToldToOwnersAssignedLater() async throws {
        let temporary = try TemporaryHome(label: "notify-owner-assigned")
        let store = try temporary.openStore()
        let notifier = try TicketNotifier(topic: "tickets", store: store)
        let unowned = AnnouncedChange(ticketId: "0000000000b2", owners: [])
        try TicketNotificationFixtures.announce([unowned], in: temporary.home)
        #expect(try await notifier.notify().collection.unowned == 1)

        var rebuilt = unowned
        rebuilt.owners = ["b-team@example.com"]
        try TicketNotificationFixtures.announce([rebuilt], in: temporary.home)
        let afterRebuild = try await notifier.notify()
        #expect(afterRebuild.collection.notifications == 0)
        #expect(afterRebuild.collection.alreadyCollected == 1)
        #expect(try TicketNotificationFixtures.lines(of: notifier).isEmpty)
    }

    /// A notifier whose first read finds the topic's start removed by retention says how many
    /// records it will never see, as one that had read part of the topic does.
    @Test func recordsRemovedByRetentionBeforeTheFirstReadAreReported() async throws {
        let temporary = try TemporaryHome(label: "notify-retention")
        let store = try temporary.openStore()
        do {
            // Small segments, and retention that keeps only the active one.
            let log = try Log.open(temporary.home.logURL)
            defer { try? log.close() }
            _ = try log.topic("tickets", creatingWith: TopicConfiguration(partitions: 1, retentionBytes: 1, segmentBytes: 1_024))
        }
        for n in 1...6 {
            try TicketNotificationFixtures.announce([AnnouncedChange(ticketId: String(format: "%012d", n), owners: ["solo@example.com"])],
                                                    in: temporary.home)
        }
        let start: Int64
        do {
            let log = try Log.open(temporary.home.logURL)
            defer { try? log.close() }
            let partition = try #require(try log.topic("tickets")).partitions[0]
            try partition.applyRetention()
            start = partition.startOffset
        }
        try #require(start > 0, "retention removed nothing; the test would prove nothing")

        let captured = CapturedLog()
        let notifier = try TicketNotifier(topic: "tickets", store: store, logger: captured.logger)
        #expect(try notifier.collect().changes == 6 - Int(start))
        let warning = captured.entries.first { $0.level == .warning && $0.message.contains("retention") }
        #expect(warning?.metadata["notify.skipped"] == "\(start)", "\(captured.entries)")
    }

    @Test func aLogThatEndsBeforeTheOffsetsReadIsReported() async throws {
        let temporary = try TemporaryHome(label: "notify-replaced-log")
        let store = try temporary.openStore()
        try TicketNotificationFixtures.announce((1...3).map { AnnouncedChange(ticketId: String(format: "%012d", $0), service: "checkout") },
                                                in: temporary.home)
        do { _ = try await TicketNotifier(topic: "tickets", store: store).notify() }
        // The log is replaced by a shorter one.
        try FileManager.default.removeItem(at: temporary.home.logURL)
        try TicketNotificationFixtures.announce([AnnouncedChange(ticketId: "000000000009", service: "checkout")], in: temporary.home)
        let error = try #require(throws: RunnelError.self) { try TicketNotifier(topic: "tickets", store: store).collect() }
        #expect(error.code == .tickets)
        #expect(error.message.contains("the log ends at 1"), "\(error)")
    }

    @Test func aChangeThatDoesNotDecodeIsCountedAndPassedOver() async throws {
        let temporary = try TemporaryHome(label: "notify-undecodable")
        let store = try temporary.openStore()
        let log = try Log.open(temporary.home.logURL)
        _ = try log.topic("tickets", creatingWith: TopicConfiguration(partitions: 1))
        try log.append([LogRecord(timestamp: 0, key: Array("x".utf8), value: Array("{\"ticketId\":1}".utf8), headers: [RecordHeader("type", "TicketOpened")]),
                        LogRecord(timestamp: 0, key: Array("x".utf8), value: Array("{}".utf8), headers: [RecordHeader("type", "TicketCountsUpdated")])],
                       to: "tickets")
        try log.close()
        try TicketNotificationFixtures.announce([AnnouncedChange(ticketId: "ffffffffffff", owners: ["solo@example.com"])], in: temporary.home)
        let pass = try await TicketNotifier(topic: "tickets", store: store).notify()
        #expect(pass.collection.undecodable == 1)
        #expect(pass.collection.changes == 1)
        #expect(pass.collection.notifications == 1)
    }
}
