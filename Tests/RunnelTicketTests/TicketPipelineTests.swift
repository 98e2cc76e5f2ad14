import Foundation
import Runnel
import RunnelTesting
import Testing

@Suite("The tickets pipeline")
struct TicketPipelineTests {
    typealias F = TicketPipelineFixtures
    static let day = 24.0 * 60

    /// The tickets table by id.
    private func tickets(_ driver: PipelineTestDriver) throws -> [String: TestRow] {
        Dictionary(uniqueKeysWithValues: try driver.rows(ExceptionTickets.ticketsTable).map { ($0["id"]!.description, $0) })
    }

    /// The announcements in derived.sqlite's outbox: (type, payload) in order.
    private func announced(_ driver: PipelineTestDriver) throws -> [(type: String, payload: String)] {
        try driver.rows("runnel_outbox", orderBy: "id").map { ($0["type"]!.description, $0["payload"]!.description) }
    }

    private func changes(_ driver: PipelineTestDriver, _ id: String) throws -> [String] {
        try driver.rows(ExceptionTickets.changesTable, orderBy: "seq").filter { $0["ticket_id"]?.description == id }.map { $0["change"]!.description }
    }

    @Test("one ticket per service and fingerprint, whatever the line numbers, ids in messages and batches")
    func oneTicketPerFingerprint() throws {
        let driver = try PipelineTestDriver(F.tickets().pipeline, batchSize: 3)
        for minute in 0..<30 {
            try driver.send(F.exception(message: "Timed out after \(100 + minute) ms for order \(UUID().uuidString)", line: minute, at: Double(minute * 7)))
        }
        try driver.send(F.exception("search", type: "java.lang.NullPointerException", message: "null", frames: F.nullTrace, at: 5))
        // The same type thrown from other in-app frames is another ticket.
        try driver.send(F.exception(frames: ["com.shop.pay.Refunds.issue", "java.lang.Thread.run"], at: 6))
        try driver.run()
        let rows = try driver.rows(ExceptionTickets.ticketsTable, orderBy: "service, count DESC")
        #expect(rows.count == 3)
        #expect(rows[0]["service"] == "checkout")
        #expect(rows[0]["count"] == 30)
        #expect(rows[0]["title"] == "Timed out after <int> ms for order <uuid>")
        #expect(rows[0]["owners"] == "pay-team@example.com\noncall@example.com")
        #expect(rows[0]["fingerprint_parts"] == "type java.util.concurrent.TimeoutException\nframe com.shop.pay.Gateway.charge\nframe com.shop.pay.Checkout.submit")
        #expect(rows[0]["id"]?.description == ExceptionTickets.ticketID(service: "checkout", fingerprint: rows[0]["fingerprint"]!.description))
        #expect(rows[1]["count"] == 1)
        let hours = try driver.rows(ExceptionTickets.hoursTable)
        #expect(hours.map { Int64($0["count"]!.description)! }.reduce(0, +) == 32)
        // One TicketOpened per ticket, however many batches.
        #expect(try announced(driver).filter { $0.type == "TicketOpened" }.count == 3)
    }

    @Test("a fingerprint seen within the baseline is not new; one quiet for longer than the baseline is new again")
    func baseline() throws {
        let driver = try PipelineTestDriver(F.tickets(baseline: .days(7)).pipeline)
        try driver.send(F.exception(at: 0))
        try driver.send(F.exception(at: 3 * Self.day))            // 3 days later: within the baseline
        try driver.send(F.exception(at: 10 * Self.day - 1))       // 7 days less a minute after: still within
        try driver.run()
        let id = try #require(try tickets(driver).keys.first)
        #expect(try changes(driver, id) == ["new"])
        try driver.send(F.exception(at: 17 * Self.day + 1))       // 7 days and 2 minutes of quiet: new again
        try driver.run()
        #expect(try changes(driver, id) == ["new", "returned"])
        let ticket = try #require(try tickets(driver)[id])
        #expect(ticket["openings"] == 2)
        #expect(ticket["open_reason"] == "returned")
        #expect(try announced(driver).map(\.type).filter { $0 != "TicketCountsUpdated" } == ["TicketOpened", "TicketReopened"])
    }

    @Test("resolved, then seen again: reopened as a regression and announced")
    func regression() throws {
        let driver = try PipelineTestDriver(F.tickets().pipeline)
        try driver.send(F.exception(at: 0))
        try driver.run()
        let id = try #require(try tickets(driver).keys.first)
        try driver.send(TicketResolved(ticketId: id, service: "checkout", inVersion: nil, note: "retry added", resolvedBy: "ana",
                                       resolvedAt: F.day.addingTimeInterval(3600)))
        try driver.run()
        #expect(try tickets(driver)[id]?["state"] == "resolved")
        #expect(try tickets(driver)[id]?["resolve_note"] == "retry added")
        // An exception from before the resolution, arriving after it, does not reopen.
        try driver.send(F.exception(at: 30))
        try driver.run()
        #expect(try tickets(driver)[id]?["state"] == "resolved")
        try driver.send(F.exception(at: 120))
        try driver.run()
        let ticket = try #require(try tickets(driver)[id])
        #expect(ticket["state"] == "open")
        #expect(ticket["open_reason"] == "regressed")
        #expect(ticket["count"] == 3)
        #expect(try changes(driver, id) == ["new", "resolved", "regressed"])
        let reopened = try #require(try announced(driver).first { $0.type == "TicketReopened" })
        #expect(reopened.payload.contains("\"reason\":\"regressed\""))
        #expect(reopened.payload.contains("\"opening\":2"))
    }

    @Test("resolved in version 2.0: exceptions from older or unknown versions do not reopen, from 2.0 on they do")
    func versionAwareResolution() throws {
        let driver = try PipelineTestDriver(F.tickets().pipeline)
        try driver.send(F.exception(at: 0, version: "1.9.4"))
        try driver.run()
        let id = try #require(try tickets(driver).keys.first)
        try driver.send(TicketResolved(ticketId: id, service: "checkout", inVersion: "2.0", note: nil, resolvedBy: nil, resolvedAt: F.day.addingTimeInterval(600)))
        try driver.send(F.exception(at: 20, version: "1.9.4"))
        try driver.send(F.exception(at: 21, version: "1.10.0"))
        try driver.send(F.exception(at: 22, version: nil))
        try driver.run()
        #expect(try tickets(driver)[id]?["state"] == "resolved")
        #expect(try tickets(driver)[id]?["count"] == 4)
        try driver.send(F.exception(at: 23, version: "2.0.1"))
        try driver.run()
        #expect(try tickets(driver)[id]?["state"] == "open")
        #expect(try tickets(driver)[id]?["last_version"] == "2.0.1")
        #expect(try changes(driver, id) == ["new", "resolved", "regressed"])
    }

    @Test("a resolution of a ticket no one opened goes to the dead letters, and the pipeline goes on")
    func unknownTicket() throws {
        let driver = try PipelineTestDriver(F.tickets().pipeline)
        try driver.send(TicketResolved(ticketId: "0123456789ab", service: "checkout", inVersion: nil, note: nil, resolvedBy: nil, resolvedAt: F.day))
        try driver.send(F.exception(at: 1))
        try driver.run()
        let letters = try driver.deadLetters()
        #expect(letters.count == 1)
        #expect(letters.first?["error"]?.description.contains("0123456789ab") == true)
        #expect(try tickets(driver).count == 1)
    }

    @Test("an hour's counts are announced once it closes, and again only when a late exception changes them")
    func hourCounts() throws {
        let driver = try PipelineTestDriver(F.tickets(lateness: .minutes(5)).pipeline)
        try driver.send(F.exception(at: 10))
        try driver.send(F.exception(at: 20))
        try driver.send(F.exception(at: 64))     // 01:04: hour 00 not closed yet (lateness 5 minutes)
        try driver.run()
        #expect(try announced(driver).filter { $0.type == "TicketCountsUpdated" }.isEmpty)
        try driver.send(F.exception(at: 66))     // 01:06: hour 00 closes
        try driver.run()
        var counts = try announced(driver).filter { $0.type == "TicketCountsUpdated" }
        #expect(counts.count == 1)
        #expect(counts.first?.payload.contains("\"count\":2") == true)
        try driver.send(F.exception(at: 30))     // late for hour 00
        try driver.send(F.exception(at: 67))
        try driver.run()
        counts = try announced(driver).filter { $0.type == "TicketCountsUpdated" }
        #expect(counts.count == 2)
        #expect(counts.last?.payload.contains("\"count\":3") == true)
        let hours = try driver.rows(ExceptionTickets.hoursTable, orderBy: "hour")
        #expect(hours.map { $0["count"] } == [3, 3])
    }

    @Test("the tickets are the same bytes whatever the batches, and after a rebuild")
    func rebuildGivesTheSameTickets() throws {
        var exceptions: [ShopException] = []
        var random = SystemRandomNumberGenerator()
        let messages = ["Timed out after 150 ms", "Connection to 10.0.0.\(Int.random(in: 1...9, using: &random)):5432 refused"]
        for index in 0..<400 {
            let minutes = Double(index) * 37 + Double(index % 5)
            switch index % 4 {
            case 0: exceptions.append(F.exception(message: messages[index % 2], at: minutes, version: index < 200 ? "1.0" : "2.1"))
            case 1: exceptions.append(F.exception("search", type: "java.lang.NullPointerException", message: "null", frames: F.nullTrace,
                                                  host: "search-\(index % 3)", level: index % 3 == 0 ? "warning" : "error", at: minutes))
            case 2: exceptions.append(F.exception("checkout", type: "java.lang.IllegalStateException", message: "cart \(index) is empty",
                                                  frames: ["java.util.HashMap.get"], at: minutes))
            default: exceptions.append(F.exception("search", message: "Timed out after \(index) ms", frames: F.nullTrace, at: minutes))
            }
        }
        func dump(_ driver: PipelineTestDriver) throws -> [String] {
            try [ExceptionTickets.ticketsTable, ExceptionTickets.hoursTable, ExceptionTickets.levelsTable, ExceptionTickets.hostsTable, ExceptionTickets.changesTable]
                .flatMap { table in try driver.rows(table, orderBy: "1, 2").map { "\(table) \($0)" } }
        }
        func feed(_ driver: PipelineTestDriver) throws {
            for (index, exception) in exceptions.enumerated() {
                try driver.send(exception, partitions: 3)
                if index == 152 {
                    try driver.run()
                    let id = ExceptionTickets.ticketID(service: "checkout", fingerprint: F.tickets().fingerprinter
                        .fingerprint(type: exception.exceptionType, message: exception.message, stackTrace: exception.stackTrace).id)
                    try driver.send(TicketResolved(ticketId: id, service: "checkout", inVersion: "2.0", note: "fixed", resolvedBy: nil,
                                                   resolvedAt: exception.occurredAt), partitions: 3)
                }
            }
        }
        let small = try PipelineTestDriver(F.tickets().pipeline, batchSize: 7)
        try feed(small)
        try small.run()
        let large = try PipelineTestDriver(F.tickets().pipeline, batchSize: 100_000)
        try feed(large)
        try large.run()
        let first = try dump(small)
        #expect(first.count > 50)
        #expect(first.contains { $0.contains("regressed") })
        #expect(first == (try dump(large)))
        try small.replace(with: F.tickets().pipeline, rebuild: true)
        small.batchSize = 13
        try small.run()
        #expect(first == (try dump(small)))
    }

    @Test("a quiet service holds back only its own hours, and the announcements are the same whatever the batches")
    func aQuietPartitionHoldsBackOnlyItsTickets() throws {
        // Services on both partitions of the topic; one of them throws only at the start.
        let services = ["checkout", "search", "billing", "auth", "catalog", "cart"]
        func feed(_ driver: PipelineTestDriver) throws {
            for service in services.dropFirst() {
                try driver.send(F.exception(service, at: 20), partitions: 2)
            }
            for hour in 0..<4 {
                try driver.send(F.exception("checkout", at: Double(hour * 60 + 10)), partitions: 2)
            }
        }
        func announcements(_ driver: PipelineTestDriver) throws -> [String] {
            try announced(driver).filter { $0.type == "TicketCountsUpdated" }.map(\.payload).sorted()
        }
        let small = try PipelineTestDriver(F.tickets().pipeline, batchSize: 3)
        try feed(small)
        try small.run()
        let large = try PipelineTestDriver(F.tickets().pipeline, batchSize: 1_000)
        try feed(large)
        try large.run()
        let partitions = Set(try small.rows(ExceptionTickets.ticketsTable).map { $0["partition"]!.description })
        try #require(partitions.count == 2)
        #expect(try small.rows(ExceptionTickets.hoursTable, orderBy: "ticket_id, hour").map(\.description)
                == (try large.rows(ExceptionTickets.hoursTable, orderBy: "ticket_id, hour").map(\.description)))
        #expect(try announcements(small) == (try announcements(large)))
        // checkout's hours 00, 01 and 02 closed on its own partition (its time reached 03:10),
        // whatever the quiet services on the other partition did; 03 is still open.
        let checkout = try announcements(small).filter { $0.contains("\"service\":\"checkout\"") }
        #expect(checkout.count == 3)
    }

    @Test("an event time beyond the year 9999 is a dead letter, not a crash")
    func anAbsurdTimeIsADeadLetter() throws {
        let driver = try PipelineTestDriver(F.tickets().pipeline)
        var exception = F.exception(at: 1)
        exception.occurredAt = Date(timeIntervalSince1970: 1e17)
        try driver.send(exception, to: F.topic, key: "checkout", at: F.day)
        try driver.send(TicketResolved(ticketId: "0123456789ab", service: "checkout", inVersion: nil, note: nil, resolvedBy: nil,
                                       resolvedAt: Date(timeIntervalSince1970: -1e17)), partitions: 2)
        try driver.send(F.exception(at: 2))
        try driver.run()
        let letters = try driver.deadLetters().map { $0["error"]!.description }
        #expect(letters.count == 2)
        #expect(letters.contains { $0.contains("outside the years 1 to 9999") && $0.contains("ShopException") })
        #expect(letters.contains { $0.contains("TicketResolved") && $0.contains("outside the years") })
        #expect(try tickets(driver).count == 1)
    }
}
