import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting
import Testing

/// The sample catalog's tickets pipeline over the sample data: every exception kind gets its
/// ticket, messages that differ only in ids group, and the feed timeout is resolved in a release
/// and regresses from it while older hosts' exceptions leave it resolved.
@Suite struct SampleTicketsTests {
    /// A home with the sample data loaded, relayed and run through the tickets pipeline.
    static func ticketsOfTheSampleData() throws -> (TemporaryHome, Store) {
        let temporary = try TemporaryHome(label: "sample-tickets")
        let store = try temporary.openStoreWithSampleData(SampleCatalog.catalog)
        let runner = try PipelineRunner(pipeline: SampleCatalog.tickets.pipeline, store: store, options: .init(batchSize: 500))
        _ = try runner.runToEnd()
        return (temporary, store)
    }

    /// The committed sample operations of one kind.
    static func operations(_ op: String) throws -> [NetworkOperation] {
        let text = try String(contentsOf: NetworkDataSet().committedFile, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(NetworkOperation.self, from: Data($0.utf8)) }.filter { $0.op == op }
    }

    struct Kind: Hashable {
        var service: String
        var type: String
    }

    @Test func everyExceptionKindOfTheSampleDataHasItsOwnTicket() throws {
        let (temporary, store) = try Self.ticketsOfTheSampleData()
        defer { withExtendedLifetime(temporary) {} }
        var exceptions: [Kind: Int64] = [:]
        for exception in try Self.operations("exception") {
            exceptions[Kind(service: exception.service!, type: exception.type!), default: 0] += 1
        }
        #expect(exceptions.count == 7)
        let tickets = try store.derived.read { db in
            try Row.fetchAll(db, sql: "SELECT service, exception_type, count, owners FROM exception_tickets")
        }
        var counted: [Kind: Int64] = [:]
        for ticket in tickets {
            let kind = Kind(service: ticket["service"], type: ticket["exception_type"])
            #expect(counted[kind] == nil, "two tickets for \(kind)")
            counted[kind] = ticket["count"]
            let owners: String = ticket["owners"]
            #expect(owners.hasSuffix("-oncall@example.net"), "owners of \(kind) from service_owners: \(owners)")
        }
        #expect(counted == exceptions)
        // Every ticket opened as new, and the dead letters are empty: every resolution named a ticket.
        let (opened, deadLetters) = try store.derived.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM exception_ticket_changes WHERE change = 'new'"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_pipeline_dead_letters"))
        }
        #expect(opened == exceptions.count)
        #expect(deadLetters == 0)
    }

    @Test func messagesThatDifferOnlyInIdsUUIDsAndNumbersGroupIntoOneTicket() throws {
        let (temporary, store) = try Self.ticketsOfTheSampleData()
        defer { withExtendedLifetime(temporary) {} }
        let deadlines = try Self.operations("exception").filter { $0.type == "io.grpc.StatusRuntimeException" }
        #expect(deadlines.count >= 10)
        // No two messages alike, and no frame of the application's own: only the message's template can group them.
        #expect(Set(deadlines.map(\.message)).count == deadlines.count)
        #expect(deadlines.allSatisfy { !$0.stack!.contains("com.example.") })
        let tickets = try store.derived.read { db in
            try Row.fetchAll(db, sql: "SELECT title, count, fingerprint_parts FROM exception_tickets WHERE exception_type = 'io.grpc.StatusRuntimeException'")
        }
        #expect(tickets.count == 1)
        let ticket = try #require(tickets.first)
        #expect(ticket["count"] == Int64(deadlines.count))
        let template = "DEADLINE_EXCEEDED: recommendations call <uuid> for member <int> gave up after <duration> (request <hex>)"
        #expect(ticket["title"] == template)
        #expect(ticket["fingerprint_parts"] == "type io.grpc.StatusRuntimeException\nmessage \(template)")
    }

    @Test func theFeedTimeoutIsResolvedInItsFixAndRegressesOnlyFromThatVersion() throws {
        let (temporary, store) = try Self.ticketsOfTheSampleData()
        defer { withExtendedLifetime(temporary) {} }
        let resolves = try Self.operations("resolve")
        #expect(resolves.count == 1)
        let resolve = try #require(resolves.first)
        #expect(resolve.service == "feed-service" && resolve.version == "3.2.1")

        let ticket = try #require(try store.derived.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM exception_tickets WHERE service = 'feed-service' AND exception_type LIKE '%TimeoutException'")
        })
        let id: String = ticket["id"]
        #expect(resolve.ticket == id)
        #expect(ticket["state"] == "open")
        #expect(ticket["open_reason"] == "regressed")
        #expect(ticket["openings"] == 2)

        let changes = try store.derived.read { db in
            try Row.fetchAll(db, sql: "SELECT change, at, version, by FROM exception_ticket_changes WHERE ticket_id = ? ORDER BY seq", arguments: [id])
        }
        #expect(changes.map { $0["change"] as String } == ["new", "resolved", "regressed"])
        #expect(changes[1]["version"] == "3.2.1")
        #expect(changes[1]["at"] == resolve.at)
        #expect(changes[1]["by"] == "feed-infra-oncall@example.net")
        #expect(changes[2]["version"] == "3.2.1")
        let resolvedAt: Int64 = changes[1]["at"], regressedAt: Int64 = changes[2]["at"]
        let lastHour = NetworkDataSet().defaultParameters.start.millisecondsSince1970 + 5 * 3_600_000
        #expect(resolvedAt < lastHour && regressedAt >= lastHour)

        // Between the resolution and the regression the host still on 3.2.0 threw it: those
        // exceptions were counted but did not reopen the ticket. From the regression on, every
        // one is from the fixed version.
        let timeouts = try store.app.read { db in
            try Row.fetchAll(db, sql: """
                SELECT host, service_version, occurred_at FROM service_exceptions
                WHERE service = 'feed-service' AND exception_type LIKE '%TimeoutException' ORDER BY occurred_at
                """)
        }
        let between = timeouts.filter { ($0["occurred_at"] as Int64) > resolvedAt && ($0["occurred_at"] as Int64) < regressedAt }
        #expect(!between.isEmpty)
        #expect(between.allSatisfy { $0["service_version"] == "3.2.0" && $0["host"] == "app-02" })
        let after = timeouts.filter { ($0["occurred_at"] as Int64) >= regressedAt }
        #expect(after.count > between.count)
        #expect(after.allSatisfy { $0["service_version"] == "3.2.1" })
        #expect(ticket["count"] == Int64(timeouts.count))
        #expect(ticket["first_version"] == "3.2.0" && ticket["last_version"] == "3.2.1")
    }

    /// `ExceptionLogged` as schema version 1 wrote it, without `serviceVersion`.
    struct ExceptionLoggedVersion1: Encodable {
        var exceptionId: Int64
        var service: String
        var host: String
        var level: String
        var exceptionType: String
        var message: String
        var stackTrace: String
        var occurredAt: Date
    }

    @Test func aVersion1ExceptionWithoutAServiceVersionStillDecodesAndOpensATicket() throws {
        let json = #"{"exceptionId":7,"service":"feed-service","host":"app-01","level":"error","exceptionType":"java.io.IOException","message":"reset","stackTrace":"java.io.IOException: reset\n\tat com.example.feed.Feed.load(Feed.java:3)","occurredAt":1767600000000}"#
        let decoded = try Outbox.makeDecoder().decode(ExceptionLogged.self, from: Data(json.utf8))
        #expect(decoded.serviceVersion == nil)
        #expect(decoded.occurredAt == Date(millisecondsSince1970: 1_767_600_000_000))

        let temporary = try TemporaryHome(label: "exception-v1")
        let store = try temporary.openStore(migrations: SampleCatalog.catalog.migrations)
        let at = Date(millisecondsSince1970: 1_767_600_000_000)
        let old = ExceptionLoggedVersion1(exceptionId: 7, service: "feed-service", host: "app-01", level: "error", exceptionType: "java.io.IOException",
                                          message: "reset", stackTrace: "java.io.IOException: reset\n\tat com.example.feed.Feed.load(Feed.java:3)",
                                          occurredAt: at)
        try store.app.write { db in
            try Network(outbox: store.outbox).assignOwner(service: "feed-service", team: "feed-infra", ownerEmail: "feed@example.net", at: at, in: db)
            _ = try store.outbox.append(OutboxEvent(topic: NetworkTopic.serviceExceptions, key: "feed-service", type: "ExceptionLogged",
                                                   schemaVersion: 1, payload: old, eventTime: at), in: db)
        }
        let log = try Log.open(temporary.home.logURL)
        _ = try OutboxRelay(store: store, log: log).drain()
        try log.close()
        _ = try PipelineRunner(pipeline: SampleCatalog.tickets.pipeline, store: store).runToEnd()
        let tickets = try store.derived.read { db in try Row.fetchAll(db, sql: "SELECT * FROM exception_tickets") }
        #expect(tickets.count == 1)
        #expect(tickets.first?["first_version"] as String? == nil)
        #expect(tickets.first?["exception_type"] == "java.io.IOException")
        #expect(tickets.first?["owners"] == "feed@example.net")
        #expect(try store.derived.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_pipeline_dead_letters") } == 0)
    }
}
