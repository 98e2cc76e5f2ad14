import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting
import Testing

@Suite struct NetworkTests {
    let temporary: TemporaryHome
    let store: Store
    let network: Network
    let t0 = Date(millisecondsSince1970: 1_767_600_000_000)

    init() throws {
        temporary = try TemporaryHome()
        store = try temporary.openStore(migrations: SampleCatalog.catalog.migrations)
        network = Network(outbox: store.outbox)
        try store.app.write { db in
            for (id, bot) in [(1, false), (2, false), (3, true)] {
                try network.join(MemberJoined(memberId: Int64(id), name: "m\(id)", industry: "Software", headline: "h\(id)",
                                              location: "Dublin", isBot: bot, joinedAt: t0), email: "m\(id)@example.net", in: db)
            }
        }
    }

    private func events(after id: Int64 = 0) throws -> [OutboxRow] {
        try store.app.read { try OutboxRow.fetchPending($0, after: id) }
    }

    @Test func joiningWritesAMemberAProfileAndOneEvent() throws {
        let rows = try events()
        #expect(rows.map(\.type) == ["MemberJoined", "MemberJoined", "MemberJoined"])
        #expect(rows.map(\.key) == ["1", "2", "3"])
        #expect(rows.allSatisfy { $0.topic == NetworkTopic.memberProfile })
        #expect(try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM profiles") } == 3)
    }

    @Test func updatingAHeadlineCarriesThePreviousOne() throws {
        let last = try events().last!.id
        try store.app.write { db in _ = try network.updateHeadline(memberId: 1, to: "Staff Engineer", at: t0, in: db) }
        let row = try #require(try events(after: last).first)
        let payload = try Outbox.makeDecoder().decode(HeadlineUpdated.self, from: Data(row.payload.utf8))
        #expect(payload.previousHeadline == "h1")
        #expect(payload.headline == "Staff Engineer")
    }

    @Test func acceptingAnInvitationConnectsTheMembersAndAnnouncesBoth() throws {
        let last = try events().last!.id
        try store.app.write { db in
            _ = try network.sendInvitation(id: 10, from: 2, to: 1, message: nil, at: t0, in: db)
            _ = try network.acceptInvitation(id: 10, at: t0.addingTimeInterval(60), in: db)
        }
        #expect(try events(after: last).map(\.type) == ["InvitationSent", "InvitationAccepted", "ConnectionMade"])
        #expect(try events(after: last).allSatisfy { $0.key == "10" })
        let pair = try store.app.read { try Row.fetchOne($0, sql: "SELECT member_a, member_b FROM connections") }
        #expect(pair?["member_a"] == 1 && pair?["member_b"] == 2)
    }

    @Test func aBrokenBusinessRuleRollsBackRowsAndEventsTogether() throws {
        try store.app.write { db in
            _ = try network.sendInvitation(id: 10, from: 1, to: 2, message: "hello", at: t0, in: db)
            _ = try network.declineInvitation(id: 10, at: t0, in: db)
        }
        let before = try events().count
        let error = try #require(throws: NetworkError.self) {
            try store.app.write { db in
                _ = try network.recordActivity(id: 1, memberId: 1, kind: "click", page: "/feed", dwellMs: 5, userAgent: "ua", at: t0, in: db)
                _ = try network.acceptInvitation(id: 10, at: t0, in: db)
            }
        }
        #expect(error.message == "invitation 10 is already declined")
        #expect(try events().count == before)
        #expect(try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM member_activity") } == 0)
    }

    @Test func activityOfABotAccountIsFlaggedAndMovesLastActive() throws {
        let last = try events().last!.id
        try store.app.write { db in
            _ = try network.recordActivity(id: 1, memberId: 3, kind: "page_view", page: "/in/1", dwellMs: 80, userAgent: "bot", at: t0, in: db)
        }
        let row = try #require(try events(after: last).first)
        let payload = try Outbox.makeDecoder().decode(ActivityRecorded.self, from: Data(row.payload.utf8))
        #expect(payload.isBot)
        #expect(row.key == "3")
        #expect(try store.app.read { try Int64.fetchOne($0, sql: "SELECT last_active_at FROM members WHERE member_id = 3") } == t0.millisecondsSince1970)
    }

    @Test func exceptionsNeedAnOwnedService() throws {
        let exception = ExceptionLogged(exceptionId: 1, service: "feed-service", host: "app-01", level: "error",
                                        exceptionType: "java.io.IOException", message: "reset", stackTrace: "…", occurredAt: t0)
        #expect(throws: NetworkError.self) { try store.app.write { db in _ = try network.logException(exception, in: db) } }
        try store.app.write { db in
            _ = try network.assignOwner(service: "feed-service", team: "feed-infra", ownerEmail: "oncall@example.net", at: t0, in: db)
            _ = try network.logException(exception, in: db)
        }
        #expect(try events().suffix(2).map(\.type) == ["ServiceOwnerAssigned", "ExceptionLogged"])
    }

    @Test func exceptionsAreSchemaVersion2WithTheServiceVersionInRowAndEvent() throws {
        let exception = ExceptionLogged(exceptionId: 1, service: "feed-service", host: "app-01", level: "error", exceptionType: "java.io.IOException",
                                        message: "reset", stackTrace: "…", occurredAt: t0, serviceVersion: "3.2.1")
        try store.app.write { db in
            _ = try network.assignOwner(service: "feed-service", team: "feed-infra", ownerEmail: "oncall@example.net", at: t0, in: db)
            _ = try network.logException(exception, in: db)
        }
        let row = try #require(try events().last)
        #expect(row.type == "ExceptionLogged" && row.schemaVersion == 2)
        #expect(try Outbox.makeDecoder().decode(ExceptionLogged.self, from: Data(row.payload.utf8)) == exception)
        #expect(try store.app.read { try String.fetchOne($0, sql: "SELECT service_version FROM service_exceptions") } == "3.2.1")
    }

    @Test func resolvingATicketWritesTicketResolvedOnTheExceptionsTopicKeyedByItsService() throws {
        #expect(throws: NetworkError.self) {
            try store.app.write { db in _ = try network.resolveTicket("0123456789ab", service: "feed-service", inVersion: nil, note: nil, by: nil, at: t0, in: db) }
        }
        try store.app.write { db in
            _ = try network.assignOwner(service: "feed-service", team: "feed-infra", ownerEmail: "oncall@example.net", at: t0, in: db)
        }
        let error = try #require(throws: NetworkError.self) {
            try store.app.write { db in _ = try network.resolveTicket("feed", service: "feed-service", inVersion: nil, note: nil, by: nil, at: t0, in: db) }
        }
        #expect(error.message.contains("not a ticket id"))
        try store.app.write { db in
            _ = try network.resolveTicket("0123456789AB", service: "feed-service", inVersion: "3.2.1", note: "retries", by: "ada", at: t0, in: db)
        }
        let row = try #require(try events().last)
        #expect(row.type == "TicketResolved" && row.topic == NetworkTopic.serviceExceptions && row.key == "feed-service")
        let resolution = try Outbox.makeDecoder().decode(TicketResolved.self, from: Data(row.payload.utf8))
        #expect(resolution == TicketResolved(ticketId: "0123456789ab", service: "feed-service", inVersion: "3.2.1", note: "retries",
                                             resolvedBy: "ada", resolvedAt: t0))
    }
}
