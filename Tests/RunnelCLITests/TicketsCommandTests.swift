import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelCLI
import RunnelTesting
import Testing

/// `runnel tickets list|show|resolve` on a demo home, and the errors they give.
@Suite struct TicketsCommandTests {
    let temporary: TemporaryHome
    let home: String

    init() async throws {
        temporary = try TemporaryHome(label: "tickets-cli")
        home = temporary.home.url.path
    }

    private func demo() async throws {
        let demo = await runnel("demo", "--home", home)
        #expect(demo.status == 0, "\(demo.error)")
    }

    private func jsonLines(_ invocation: Invocation) throws -> [[String: Any]] {
        try invocation.outputLines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    private func ticket(where condition: String) throws -> Row {
        try #require(try Store.openReadOnly(temporary.home, .derived).read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM exception_tickets WHERE \(condition)")
        })
    }

    @Test func listPrintsTicketsAsJSONLinesWithISOTimesAndTheLatestHoursCounts() async throws {
        try await demo()
        let listed = await runnel("tickets", "list", "--format", "json", "--home", home)
        #expect(listed.status == 0, "\(listed.error)")
        let tickets = try jsonLines(listed)
        // The demo's seven exception kinds, all open (the feed timeout regressed after its resolution).
        #expect(tickets.count == 7)
        let keys: Set<String> = ["id", "service", "fingerprint", "exception_type", "state", "owner", "first_seen", "last_seen", "count", "last_hour_count"]
        #expect(tickets.allSatisfy { Set($0.keys) == keys && $0["state"] as? String == "open" })
        let iso = ISO8601DateFormatter()
        #expect(tickets.allSatisfy { iso.date(from: $0["first_seen"] as? String ?? "") != nil && iso.date(from: $0["last_seen"] as? String ?? "") != nil })

        // last_hour_count: the ticket's count in the latest hour with any exceptions (13:00, the regression's hour).
        let derived = try Store.openReadOnly(temporary.home, .derived)
        let expected = try await derived.read { db in
            try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: """
                SELECT t.id, coalesce((SELECT count FROM exception_ticket_hours h WHERE h.ticket_id = t.id
                                       AND h.hour = (SELECT max(hour) FROM exception_ticket_hours)), 0) AS n
                FROM exception_tickets t
                """).map { ($0["id"] as String, $0["n"] as Int) })
        }
        #expect(Dictionary(uniqueKeysWithValues: tickets.map { ($0["id"] as! String, $0["last_hour_count"] as! Int) }) == expected)
        let feed = try #require(tickets.first { ($0["exception_type"] as? String)?.hasSuffix("TimeoutException") == true })
        #expect(feed["owner"] as? String == "feed-infra-oncall@example.net")
        #expect((feed["last_hour_count"] as? Int ?? 0) >= 16)  // four times the usual rate in the last hour

        let search = try jsonLines(await runnel("tickets", "list", "--service", "search-service", "--format", "json", "--home", home))
        #expect(search.count == 1 && search.first?["service"] as? String == "search-service")
        let resolved = await runnel("tickets", "list", "--state", "resolved", "--format", "json", "--home", home)
        #expect(resolved.status == 0 && resolved.outputLines.isEmpty)
        let all = try jsonLines(await runnel("tickets", "list", "--state", "all", "--format", "json", "--home", home))
        #expect(all.count == 7)

        let csv = await runnel("tickets", "list", "--format", "csv", "--home", home)
        #expect(csv.outputLines.first == "id,service,fingerprint,exception_type,state,owner,first_seen,last_seen,count,last_hour_count")
        #expect(csv.outputLines.count == 8)
        let table = await runnel("tickets", "list", "--home", home)
        #expect(table.outputLines.last == "(7 rows)")
        #expect(table.output.contains("2026-01-05T"))
    }

    @Test func showPrintsWhyTheExceptionsGroupedTheHistoryHostsHoursAndSamples() async throws {
        try await demo()
        let feed = try ticket(where: "service = 'feed-service'")
        let id: String = feed["id"]
        let shown = await runnel("tickets", "show", String(id.prefix(6)), "--home", home)
        #expect(shown.status == 0, "\(shown.error)")
        let text = shown.output
        #expect(text.hasPrefix("ticket \(id) · feed-service · open (regressed)\n"))
        #expect(text.contains("title:        Timed out after <int> ms waiting for ranking response"))
        #expect(text.contains("owners:       feed-infra-oncall@example.net"))
        #expect(text.contains("first seen in 3.2.0, latest in 3.2.1"))
        #expect(text.contains("  type java.util.concurrent.TimeoutException\n  frame com.example.feed.RankingClient.fetch\n  frame com.example.feed.FeedService.render\n"))
        let history = shown.outputLines.filter { $0.hasPrefix("  2026-") && ($0.contains(" new ") || $0.contains(" resolved ") || $0.contains(" regressed ")) }
        #expect(history.count == 3)
        #expect(history[0].contains("new        from 3.2.0"))
        #expect(history[1].contains("resolved   in 3.2.1  by feed-infra-oncall@example.net  — Ranking client retries"))
        #expect(history[2].contains("regressed  from 3.2.1"))
        #expect(shown.outputLines.contains { $0.hasPrefix("  app-01  ") } && shown.outputLines.contains { $0.hasPrefix("  app-02  ") })
        // Six hours of data, one line each, oldest first.
        let hours = shown.outputLines.filter { $0.hasPrefix("  2026-01-05T") && $0.hasSuffix("#") }
        #expect(hours.count == 6)
        #expect(hours.first?.hasPrefix("  2026-01-05T08:00:00Z") == true && hours.last?.hasPrefix("  2026-01-05T13:00:00Z") == true)
        #expect(text.contains("sample exception (the first: \(feed["sample_host"] as String), error, version 3.2.0):"))
        #expect(text.contains(feed["sample_message"] as String))
        #expect(text.contains("latest exception (\(Date(millisecondsSince1970: feed["latest_at"]).iso8601()), version 3.2.1):"))
        #expect(text.contains(feed["latest_message"] as String))
        #expect(text.contains("    at com.example.feed.RankingClient.fetch(RankingClient.java:"))
    }

    @Test func resolveRecordsTheResolutionWhichAppliesAfterTheRelayAndThePipeline() async throws {
        try await demo()
        let grpc = try ticket(where: "exception_type = 'io.grpc.StatusRuntimeException'")
        let id: String = grpc["id"]
        let resolved = await runnel("tickets", "resolve", id, "--in-version", "7.2.0", "--note", "deadline raised to 5 s", "--by", "ada", "--home", home)
        #expect(resolved.status == 0, "\(resolved.error)")
        #expect(resolved.output.contains("ticket \(id) of jobs-service: resolved in 7.2.0"))
        #expect(resolved.output.contains("It applies when the relay and the tickets pipeline next run: `runnel relay --home \(home)`, then `runnel run exception-tickets --home \(home)`"))
        // Not applied yet: the event waits in the app outbox, and a second resolution is refused.
        #expect(try await jsonLines(runnel("tickets", "list", "--state", "resolved", "--format", "json", "--home", home)).isEmpty)
        let twice = await runnel("tickets", "resolve", id, "--in-version", "7.3.0", "--home", home)
        #expect(twice.status == 1)
        #expect(twice.error.contains("error: a resolution of ticket \(id) is already waiting in the outbox"), "\(twice.error)")

        #expect(await runnel("relay", "--home", home).status == 0)
        let run = await runnel("run", "exception-tickets", "--home", home)
        #expect(run.status == 0, "\(run.error)")
        let nowResolved = try jsonLines(await runnel("tickets", "list", "--state", "resolved", "--format", "json", "--home", home))
        #expect(nowResolved.map { $0["id"] as? String } == [id])
        let shown = await runnel("tickets", "show", id, "--home", home)
        #expect(shown.output.hasPrefix("ticket \(id) · jobs-service · resolved\n"))
        #expect(shown.output.contains("resolved in 7.2.0: older versions do not reopen it"))
        #expect(shown.output.contains("resolved   in 7.2.0  by ada  — deadline raised to 5 s"))

        let again = await runnel("tickets", "resolve", String(id.prefix(5)), "--home", home)
        #expect(again.status == 1)
        #expect(again.error.contains("error: ticket \(id) of jobs-service is resolved already"))
    }

    @Test func unknownAndAmbiguousIdsAndMissingTicketsAreClearErrors() async throws {
        // A home whose tickets pipeline never ran.
        #expect(await runnel("migrate", "--home", home).status == 0)
        for command in [["tickets", "list"], ["tickets", "show", "abcd"], ["tickets", "resolve", "abcd"]] {
            let refused = await runnel(command + ["--home", home])
            #expect(refused.status == 1)
            #expect(refused.error.contains("has no tickets yet"), "\(refused.error)")
            #expect(refused.error.contains("`runnel relay` then `runnel run exception-tickets`"), "\(refused.error)")
        }
        let noHome = await runnel("tickets", "list", "--home", temporary.folder.appendingPathComponent("nowhere").path)
        #expect(noHome.status == 1 && noHome.error.contains("no derived.sqlite"))

        // Two tickets whose ids share a prefix.
        let derived = try temporary.openConnection(.derived)
        try await derived.write { db in
            try db.execute(sql: "CREATE TABLE exception_tickets (id TEXT PRIMARY KEY, service TEXT, state TEXT)")
            try db.execute(sql: "INSERT INTO exception_tickets VALUES ('abcd12345678', 'feed-service', 'open'), ('abcd98765432', 'feed-service', 'open')")
        }
        let ambiguous = await runnel("tickets", "show", "abcd", "--home", home)
        #expect(ambiguous.status == 1)
        #expect(ambiguous.error.contains("abcd is the start of several tickets' ids: abcd12345678, abcd98765432"), "\(ambiguous.error)")
        let unknown = await runnel("tickets", "resolve", "ffff0000", "--home", home)
        #expect(unknown.status == 1)
        #expect(unknown.error.contains("no ticket has the id ffff0000"), "\(unknown.error)")
        let notAnID = await runnel("tickets", "show", "timeout", "--home", home)
        #expect(notAnID.status == 1)
        #expect(notAnID.error.contains("\"timeout\" is not a ticket id"), "\(notAnID.error)")
        // The ambiguous and unknown ids wrote nothing.
        #expect(try await Store.openReadOnly(temporary.home, .app).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox WHERE type = 'TicketResolved'") } == 0)

        let badState = await runnel("tickets", "list", "--state", "closed", "--home", home)
        #expect(badState.status == 64)
    }

    @Test func aCatalogWithoutTicketsSaysSo() async throws {
        let transcript = Transcript()
        let status = await RunnelCommand.run(["tickets", "list", "--home", home], catalog: Catalog(name: "shop"), console: transcript.console)
        #expect(status == 1)
        #expect(transcript.texts.1.contains("error: the shop catalog keeps no exception tickets"))
    }
}
