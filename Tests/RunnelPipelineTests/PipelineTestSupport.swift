import Foundation
import GRDB
import Runnel
import RunnelTesting

/// A small event for pipeline tests.
struct Click: Codable, Sendable, Hashable {
    var clickId: Int64
    var userId: Int64
    var page: String
    var dwellMs: Int64
    var isBot: Bool = false
    var at: Date
}

/// Clicks counted per user, into `clicks_per_user`: the pipeline of the runner and bad-input tests.
let clicksPerUser = Pipeline("counts", version: 1, description: "test") {
    Source("clicks", as: Click.self, type: "Click", time: \.at)
        .keyBy("user_id", \.userId)
        .aggregate { Count("clicks") }
        .into(ReadView("clicks_per_user", primaryKey: ["user_id"]))
}

/// Milliseconds since 1970 as a date: tests place events on exact window boundaries.
func ms(_ milliseconds: Int64) -> Date { Date(millisecondsSince1970: milliseconds) }

let minute: Int64 = 60_000

extension PipelineTestDriver {
    @discardableResult
    func click(_ id: Int64, user: Int64, at time: Int64, page: String = "/feed", dwell: Int64 = 100, bot: Bool = false) throws -> Int64 {
        try send(Click(clickId: id, userId: user, page: page, dwellMs: dwell, isBot: bot, at: ms(time)),
                 to: "clicks", key: "\(user)", type: "Click", at: ms(time))
    }
}

func int(_ value: TestValue?) -> Int64? { value?.int64 }
func text(_ value: TestValue?) -> String? { value?.string }

/// A folder of business migrations with a `users` table, for enrich tests.
func usersMigrations(_ home: TemporaryHome) throws -> URL {
    try home.makeMigrations(["0001_users.sql": """
        CREATE TABLE users (user_id INTEGER PRIMARY KEY, country TEXT NOT NULL);
        INSERT INTO users VALUES (1, 'NL'), (2, 'FR');
        """])
}

struct UserRow: Decodable, FetchableRecord, Sendable {
    static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    var userId: Int64
    var country: String
}
