import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import NIOCore
import Runnel
import RunnelServer
import Testing

/// What the dashboard refuses: unknown things (404 with a message), parameters out of range (400
/// naming the parameter), writes (405), bodies (413), requests without the token (401), and names
/// that would reach SQL.
@Suite struct DashboardRequestRulesTests {
    @Test func unknownThingsAreNotFoundWithAMessage() async throws {
        let home = try await DashboardHome(demo: false)
        try await home.withClient { client in
            let pages: [(String, String)] = [
                ("/views/no_such_view", "there is no read view no_such_view"),
                ("/sagas/no-such-instance", "there is no saga instance no-such-instance"),
                ("/nowhere", "there is no page at /nowhere"),
            ]
            for (uri, message) in pages {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .notFound, "\(uri)")
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8", "\(uri)")
                    #expect(response.text.contains(message), "\(uri): \(response.text.prefix(300))")
                }
                try await client.execute(uri: "/api" + uri, method: .get) { response in
                    #expect(response.status == .notFound, "/api\(uri)")
                    let error = try response.object()["error"] as? String
                    #expect(error?.isEmpty == false, "/api\(uri): \(response.text)")
                }
            }
        }
    }

    @Test func anUnknownTicketIsNotFound() async throws {
        let home = try await DashboardHome(demo: false)
        try await home.withClient { client in
            try await client.execute(uri: "/exceptions/tickets/0000nope", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.text.contains("there is no ticket 0000nope"))
            }
            try await client.execute(uri: "/api/tickets/0000nope", method: .get) { response in
                #expect(response.status == .notFound)
                let error = try response.object()["error"] as? String
                #expect(error == "there is no ticket 0000nope: /tickets?state=all lists every ticket")
            }
        }
    }

    @Test func parametersOutOfRangeAreRefusedByName() async throws {
        let home = try await DashboardHome(demo: false)
        let cases: [(String, String)] = [
            ("/api/sagas?limit=0", "limit"), ("/api/sagas?limit=1001", "limit"), ("/api/sagas?limit=ten", "limit"),
            ("/api/sagas?page=0", "page"), ("/api/sagas?state=asleep", "state"),
            ("/api/exceptions?hours=0", "hours"), ("/api/exceptions?hours=169", "hours"), ("/api/exceptions?hours=-3", "hours"),
            ("/api/tickets?state=closed", "state"),
            ("/api/views/runnel_view_owners?page=0", "page"), ("/api/views/x?limit=5000", "limit"),
            ("/sagas?limit=0", "limit"), ("/exceptions?hours=1000", "hours"), ("/tickets?state=x", "state"),
        ]
        try await home.withClient { client in
            for (uri, parameter) in cases {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .badRequest, "\(uri)")
                    #expect(response.text.contains("query parameter \(parameter)="), "\(uri): \(response.text.prefix(300))")
                    #expect(response.text.contains("\(parameter) takes"), "\(uri)")
                }
            }
        }
    }

    @Test func onlyGetAndHeadAreAnswered() async throws {
        let home = try await DashboardHome(demo: false)
        try await home.withClient { client in
            for method: HTTPRequest.Method in [.post, .put, .delete, .patch] {
                for uri in ["/", "/api/views", "/api/sagas/x", "/nowhere"] {
                    try await client.execute(uri: uri, method: method) { response in
                        #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                        #expect(response.headers[.allow] == "GET, HEAD")
                    }
                }
            }
        }
    }

    @Test func requestBodiesAreRefused() async throws {
        let home = try await DashboardHome(demo: false)
        try await home.withClient { client in
            for size in [1, 5_000] {
                try await client.execute(uri: "/api/status", method: .get, headers: [.contentLength: String(size)],
                                         body: ByteBuffer(repeating: UInt8(ascii: "x"), count: size)) { response in
                    #expect(response.status == .contentTooLarge, "\(size) bytes")
                    let error = try response.object()["error"] as? String
                    #expect(error?.contains("no request body") == true)
                }
            }
        }
    }

    @Test func onlyListedViewNamesReachSQL() async throws {
        let home = try await DashboardHome()
        let attempts = [
            "sqlite_master", "runnel_view_owners", "exception_tickets%22%3B%20DROP%20TABLE%20runnel_view_owners%3B--",
            "x%22%20UNION%20SELECT%20sql%20FROM%20sqlite_master--", "%2E%2E%2Fapp", "..%2Fapp.sqlite",
        ]
        try await home.withClient { client in
            for name in attempts {
                try await client.execute(uri: "/api/views/\(name)", method: .get) { response in
                    #expect(response.status == .notFound, "\(name): \(response.text.prefix(200))")
                }
            }
        }
        let owners = try home.read(.derived) { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_view_owners") ?? 0 }
        #expect(owners > 0)
    }

    @Test func anotherAddressNeedsTheToken() async throws {
        let home = try await DashboardHome(demo: false)
        let token = "0123456789abcdef0123456789abcdef"
        let access = try DashboardAccess(host: "0.0.0.0", port: 8080, token: token)
        try await home.withClient(access: access) { client in
            for uri in ["/", "/api/status", "/views", "/nowhere"] {
                for header: HTTPFields in [[:], [.authorization: "Bearer wrong-token-0123456789"], [.authorization: "Basic \(token)"],
                                           [.authorization: "Bearer \(token)x"]] {
                    try await client.execute(uri: uri, method: .get, headers: header) { response in
                        #expect(response.status == .unauthorized, "\(uri) \(header)")
                        #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                    }
                }
            }
            try await client.execute(uri: "/api/status", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                #expect(response.status == .ok)
            }
        }
        // On loopback without a token, everyone is let in.
        try await home.withClient(access: try DashboardAccess(host: "127.0.0.1", port: 0)) { client in
            try await client.execute(uri: "/api/status", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
