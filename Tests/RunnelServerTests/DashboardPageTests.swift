import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Pipelines
import Runnel
import Testing
@testable import RunnelServer

/// Every page over a home made by `runnel demo`: its status, its content and the facts it
/// shows, checked against the databases.
@Suite struct DashboardPageTests {
    @Test func everyPageAnswersWithItsContent() async throws {
        let home = try await DashboardHome()
        let (view, ticket, saga) = try home.read(.derived) { db in
            (try String.fetchOne(db, sql: "SELECT view FROM runnel_view_owners ORDER BY view LIMIT 1"),
             try String.fetchOne(db, sql: "SELECT id FROM exception_tickets ORDER BY id LIMIT 1"),
             try home.read(.app) { try String.fetchOne($0, sql: "SELECT id FROM runnel_sagas ORDER BY id LIMIT 1") })
        }
        let viewName = try #require(view), ticketID = try #require(ticket), sagaID = try #require(saga)
        let pages: [(String, [String])] = [
            ("/", ["<table id=\"runners\"", "Outboxes", "Topics"]),
            ("/pipelines", ["<table id=\"pipelines\"", "class=\"chart lag-chart\"", "since the dashboard started"]),
            ("/exceptions", ["<svg", "<polyline", "id=\"types-by-level\"", "id=\"tickets\""]),
            ("/exceptions?hours=168", ["168 hours", "<polyline"]),
            ("/tickets?state=all", ["data-ticket-id=\""]),
            ("/exceptions/tickets/\(ticketID)", ["id=\"stack-trace\"", "class=\"sparkline\"", "id=\"first-seen\""]),
            ("/sagas", ["id=\"saga-counts\"", "data-instance-id=\""]),
            ("/sagas/\(sagaID)", ["id=\"saga-timeline\"", "data-seq=\""]),
            ("/kv", ["data-store=\""]),
            ("/views", ["data-view=\"\(viewName)\""]),
            ("/views/\(viewName)?limit=5", ["id=\"view-rows\"", "class=\"row\""]),
        ]
        try await home.withClient { client in
            for (uri, expected) in pages {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok, "\(uri): \(response.text.prefix(300))")
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8", "\(uri)")
                    for text in expected {
                        #expect(response.text.contains(text), "\(uri) should contain \(text)")
                    }
                    // Self-contained: no script, no external style sheet, image or font.
                    #expect(!response.text.contains("<script"), "\(uri)")
                    #expect(!response.text.contains("<link"), "\(uri)")
                    #expect(!response.text.contains("src=\""), "\(uri)")
                }
            }
            try await client.execute(uri: "/", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
            }
        }
    }

    @Test func statusAPIIsTheStatusJSON() async throws {
        let home = try await DashboardHome()
        try await home.withClient { client in
            try await client.execute(uri: "/api/status", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                let status = try JSONDecoder.snakeCase.decode(HomeStatus.self, from: Data(response.text.utf8))
                // Exactly what `HomeStatus.json()` writes, the object `runnel status --format json` prints.
                #expect(String(decoding: status.json(), as: UTF8.self) == response.text)
                let direct = try StatusReader(home: home.home, catalog: SampleCatalog.catalog).read()
                #expect(status.pipelines.map(\.name) == direct.pipelines.map(\.name))
                #expect(status.pipelines.map(\.records) == direct.pipelines.map(\.records))
                #expect(status.topics == direct.topics)
            }
            try await client.execute(uri: "/", method: .get) { response in
                let status = try StatusReader(home: home.home, catalog: SampleCatalog.catalog).read()
                for problem in status.problems {
                    #expect(response.text.contains(HTML.escaped(problem.message)))
                }
                #expect(response.text.contains(status.problems.isEmpty ? "id=\"no-problems\"" : "class=\"problems\""))
            }
        }
    }

    @Test func problemsAreListedAndTheirRowsHighlighted() async throws {
        let home = try await DashboardHome(demo: false)
        // A row the relay has not taken for ten minutes: `runnel status --check` reports it.
        let tenMinutesAgo = Date().millisecondsSince1970 - 600_000
        try await DatabaseQueue(path: home.home.databaseURL(.app).path).write { db in
            try db.execute(sql: """
                INSERT INTO runnel_outbox (topic, key, type, schema_version, payload, event_time, created_at)
                VALUES ('trips', 'k', 'TripBooked', 1, '{}', ?, ?)
                """, arguments: [tenMinutesAgo, tenMinutesAgo])
        }
        try await home.withClient { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.text.contains("<ul class=\"problems\" data-count=\"1\">"))
                #expect(response.text.contains("<strong>outbox app.sqlite</strong>: 1 row waiting, the oldest for"))
                #expect(response.text.contains("<tr class=\"problem\"><td>app.sqlite</td>"))
                #expect(!response.text.contains("<tr class=\"problem\"><td>derived.sqlite</td>"))
            }
            try await client.execute(uri: "/api/status", method: .get) { response in
                let problems = try response.object()["problems"] as? [[String: Any]]
                #expect(problems?.first?["subject"] as? String == "outbox app.sqlite")
            }
        }
    }

    @Test func pipelinesAPIHasEveryPipelineAndItsSampledLag() async throws {
        let home = try await DashboardHome()
        let dashboard = try home.dashboard()
        await dashboard.sampler.sample()
        await dashboard.sampler.sample()
        let app = Application(router: dashboard.makeRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/pipelines", method: .get) { response in
                let object = try response.object()
                let pipelines = try #require(object["pipelines"] as? [[String: Any]])
                #expect(pipelines.compactMap { ($0["status"] as? [String: Any])?["name"] as? String }
                    == SampleCatalog.catalog.pipelines.map(\.name))
                for pipeline in pipelines {
                    let history = try #require(pipeline["history"] as? [[String: Any]])
                    #expect(history.count == 2)
                    #expect(history.allSatisfy { $0["lag_events"] is Int && $0["at"] is Int })
                }
                #expect(object["history_is_partial"] as? Bool == true)
            }
            try await client.execute(uri: "/pipelines", method: .get) { response in
                #expect(response.text.components(separatedBy: "class=\"lag-series\"").count - 1 == SampleCatalog.catalog.pipelines.count)
                #expect(response.text.contains("data-samples=\"2\""))
            }
        }
    }

    @Test func sagasAPIMatchesTheSagasTable() async throws {
        let home = try await DashboardHome()
        let (counts, ids, firstID, timeline) = try home.read(.app) { db in
            let counts = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM runnel_sagas GROUP BY state")
                .map { ($0["state"] as String, $0["n"] as Int) })
            let ids = try String.fetchAll(db, sql: "SELECT id FROM runnel_sagas ORDER BY started_at DESC, id LIMIT 3 OFFSET 3")
            let first = try String.fetchOne(db, sql: "SELECT id FROM runnel_sagas ORDER BY id LIMIT 1") ?? ""
            let timeline = try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_saga_log WHERE saga_id = ?", arguments: [first]) ?? 0
            return (counts, ids, first, timeline)
        }
        #expect(!counts.isEmpty && !ids.isEmpty)
        try await home.withClient { client in
            try await client.execute(uri: "/api/sagas?limit=3&page=2", method: .get) { response in
                let object = try response.object()
                let apiCounts = try #require(object["counts"] as? [String: Int])
                #expect(apiCounts.filter { $0.value > 0 } == counts)
                #expect(object["total"] as? Int == counts.values.reduce(0, +))
                let instances = try #require(object["instances"] as? [[String: Any]])
                #expect(instances.compactMap { $0["id"] as? String } == ids)
            }
            try await client.execute(uri: "/sagas?limit=3&page=2", method: .get) { response in
                #expect(response.text.contains("data-rows=\"\(ids.count)\""))
                for id in ids { #expect(response.text.contains("data-instance-id=\"\(id)\"")) }
            }
            try await client.execute(uri: "/api/sagas/\(firstID)", method: .get) { response in
                let object = try response.object()
                #expect((object["instance"] as? [String: Any])?["id"] as? String == firstID)
                #expect((object["timeline"] as? [Any])?.count == timeline)
            }
        }
    }

    @Test func aSagaIdWithAnySignLeadsToItsPage() async throws {
        let home = try await DashboardHome(demo: false)
        let id = "odd id/with?signs&#%"
        try await DatabaseQueue(path: home.home.databaseURL(.app).path).write { db in
            try db.execute(sql: """
                INSERT INTO runnel_sagas (id, saga, state, data, version, step, completed_steps, effective_steps, undone_steps,
                                          compensating, attempt, last_seq, started_at, updated_at)
                VALUES (?, 'trip', 'failed', '{}', 1, 0, 0, 0, 0, 0, 1, 0, 1, 2)
                """, arguments: [id])
        }
        try await home.withClient { client in
            let list = try await client.execute(uri: "/sagas", method: .get) { $0.text }
            let href = try #require(list.range(of: "<a href=\"/sagas/").map { list[$0.upperBound...].prefix { $0 != "\"" } })
            #expect(!href.contains("/") && !href.contains("?") && !href.contains("#"))
            try await client.execute(uri: "/sagas/" + href, method: .get) { response in
                #expect(response.status == .ok, "/sagas/\(href)")
                #expect(response.text.contains("data-instance-id=\"odd id/with?signs&amp;#%\""))
            }
            try await client.execute(uri: "/api/sagas/" + href, method: .get) { response in
                let instance = try response.object()["instance"] as? [String: Any]
                #expect(instance?["id"] as? String == id)
            }
        }
    }

    @Test func viewsAPIMatchesTheViews() async throws {
        let home = try await DashboardHome()
        let (owners, name, total, rows, columns) = try home.read(.derived) { db in
            let owners = try String.fetchAll(db, sql: "SELECT view FROM runnel_view_owners ORDER BY view")
            // The view with the most rows, so that page 2 has some.
            let name = try owners.max { a, b in
                (try Int.fetchOne(db, sql: "SELECT count(*) FROM \"\(a)\"") ?? 0) < (try Int.fetchOne(db, sql: "SELECT count(*) FROM \"\(b)\"") ?? 0)
            } ?? ""
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM \"\(name)\"") ?? 0
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM \"\(name)\" LIMIT 4 OFFSET 4")
            return (owners, name, total, rows.map { Array($0.databaseValues.map(ViewPage.Cell.init)) }, try db.columns(in: name).map(\.name))
        }
        #expect(total > 4)
        try await home.withClient { client in
            try await client.execute(uri: "/api/views", method: .get) { response in
                let views = try #require(try response.object()["views"] as? [[String: Any]])
                #expect(views.compactMap { $0["name"] as? String } == owners)
                #expect(views.first { $0["name"] as? String == name }?["rows"] as? Int == total)
            }
            try await client.execute(uri: "/api/views/\(name)?page=2&limit=4", method: .get) { response in
                let page = try JSONDecoder.snakeCase.decode(ViewPage.self, from: Data(response.text.utf8))
                #expect(page.totalRows == total)
                #expect(page.columns == columns)
                #expect(page.rows == rows)
            }
            try await client.execute(uri: "/views/\(name)?page=2&limit=4", method: .get) { response in
                #expect(response.text.contains("data-rows=\"\(rows.count)\""))
                #expect(response.text.contains("rel=\"prev\""))
            }
        }
    }

    @Test func exceptionsAndTicketsAPIsMatchTheTicketTables() async throws {
        let home = try await DashboardHome()
        let facts = try home.read(.derived) { db in
            let latest = try Int64.fetchOne(db, sql: "SELECT max(hour) FROM exception_ticket_hours WHERE count > 0") ?? 0
            let inWindow = try Int64.fetchOne(db, sql: "SELECT sum(count) FROM exception_ticket_hours WHERE hour BETWEEN ? AND ?",
                                              arguments: [latest - 23 * 3_600_000, latest]) ?? 0
            let open = try Int.fetchOne(db, sql: "SELECT count(*) FROM exception_tickets WHERE state = 'open'") ?? 0
            let all = try Int.fetchOne(db, sql: "SELECT count(*) FROM exception_tickets") ?? 0
            let ticket = try Row.fetchOne(db, sql: "SELECT id, sample_stack_trace, first_seen FROM exception_tickets ORDER BY id LIMIT 1")
                .map { ($0["id"] as String, $0["sample_stack_trace"] as String, $0["first_seen"] as Int64) }
            return (latest, inWindow, open, all, ticket)
        }
        let ticket = try #require(facts.4)
        #expect(facts.1 > 0 && facts.3 > 0)
        try await home.withClient { client in
            try await client.execute(uri: "/api/exceptions?hours=24", method: .get) { response in
                let object = try response.object()
                #expect(object["latest_hour"] as? Int64 == facts.0)
                let services = try #require(object["services"] as? [[String: Any]])
                #expect(services.flatMap { $0["counts"] as? [Int64] ?? [] }.reduce(0, +) == facts.1)
                #expect(services.allSatisfy { ($0["counts"] as? [Any])?.count == 24 })
                #expect((object["open_tickets"] as? [Any])?.count == facts.2)
            }
            try await client.execute(uri: "/exceptions?hours=24", method: .get) { response in
                #expect(response.text.contains("data-rows=\"\(facts.2)\""))
            }
            try await client.execute(uri: "/api/tickets?state=all", method: .get) { response in
                let tickets = try response.object()["tickets"] as? [Any]
                #expect(tickets?.count == facts.3)
            }
            try await client.execute(uri: "/api/tickets", method: .get) { response in
                let tickets = try response.object()["tickets"] as? [Any]
                #expect(tickets?.count == facts.2)
            }
            try await client.execute(uri: "/api/tickets/\(ticket.0)", method: .get) { response in
                let object = try response.object()
                #expect(object["sample_stack_trace"] as? String == ticket.1)
                #expect((object["ticket"] as? [String: Any])?["first_seen"] as? Int64 == ticket.2)
                #expect(((object["ticket"] as? [String: Any])?["counts_by_hour"] as? [Any])?.count == 24)
            }
        }
    }

    @Test func kvAPIListsEveryStoreAndItsVersions() async throws {
        let home = try await DashboardHome()
        let folders = try KVStoreFolder.all(in: home.home)
        #expect(!folders.isEmpty)
        try await home.withClient { client in
            try await client.execute(uri: "/api/kv", method: .get) { response in
                let stores = try #require(try response.object()["stores"] as? [[String: Any]])
                #expect(stores.compactMap { $0["store"] as? String } == folders.map(\.name))
                for (store, folder) in zip(stores, folders) {
                    #expect(store["version"] as? Int == (try folder.currentVersion()))
                    #expect(store["kept_versions"] as? [Int] == (try folder.versionNumbers().sorted()))
                    #expect(store["keys"] as? Int == (try folder.manifest(of: folder.currentVersion() ?? 0).keyCount))
                }
            }
        }
    }

    @Test func metricsComeFromTheCallersClosure() async throws {
        let home = try await DashboardHome(demo: false)
        try await home.withClient(metrics: { "runnel_test_total 3\n" }) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text == "runnel_test_total 3\n")
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            }
        }
        try await home.withClient { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.text.contains("serves no metrics"))
            }
        }
    }
}
