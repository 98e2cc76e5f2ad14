import Foundation
import Runnel
import RunnelTesting
import Testing

@Suite("The tickets pipeline")
struct TicketPipelineTests {
    typealias F = TicketPipelineFixtures

    @Test("one ticket per service and fingerprint, whatever the line numbers, ids in messages and batches")
    func oneTicketPerFingerprint() throws {
        let driver = try PipelineTestDriver(F.tickets().pipeline, batchSize: 3)
        for minute in 0..<30 {
            try driver.send(F.exception(message: "Timed out after \(100 + minute) ms for order \(UUID().uuidString)", line: minute, at: Double(minute * 7)))
        }
        try driver.send(F.exception("search", type: "java.lang.NullPointerException", message: "null", frames: F.nullTrace, at: 5))
        try driver.run()
        let tickets = try driver.rows(ExceptionTickets.ticketsTable, orderBy: "service")
        #expect(tickets.count == 2)
        #expect(tickets[0]["service"] == "checkout")
        #expect(tickets[0]["count"] == 30)
        #expect(tickets[0]["title"] == "Timed out after <int> ms for order <uuid>")
        #expect(tickets[0]["owners"] == "pay-team@example.com\noncall@example.com")
        let hours = try driver.rows(ExceptionTickets.hoursTable, orderBy: "ticket_id, hour")
        #expect(hours.map { Int64($0["count"]?.description ?? "") ?? -1 }.reduce(0, +) == 31)
    }
}
