import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

/// Stateless stages: each one's effect is visible in a view with declared columns.
@Suite struct StatelessStageTests {
    @Test func filterMapAndFlatMapShapeTheRows() throws {
        struct Visit: Sendable { var userId: Int64; var page: String; var copy: Int64 }
        let pipeline = Pipeline("stateless", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .filter { !$0.isBot }
                .map { Visit(userId: $0.userId, page: $0.page.uppercased(), copy: 0) }
                .flatMap { visit in [0, 1].map { Visit(userId: visit.userId, page: visit.page, copy: $0) } }
                .into(ReadView("visits", primaryKey: ["user_id", "copy"]) {
                    ViewColumn("user_id", \.userId)
                    ViewColumn("page", \.page)
                    ViewColumn("copy", \.copy)
                })
        }
        let driver = try PipelineTestDriver(pipeline)
        try driver.click(1, user: 7, at: 1_000, page: "/jobs")
        try driver.click(2, user: 8, at: 2_000, bot: true)
        try driver.run()
        let rows = try driver.rows("visits", orderBy: "user_id, copy")
        #expect(rows.count == 2)
        #expect(rows.map { text($0["page"]) } == ["/JOBS", "/JOBS"])
        #expect(rows.map { int($0["copy"]) } == [0, 1])
    }

    @Test func recordsOfOtherTypesArePassedOver() throws {
        let pipeline = Pipeline("typed", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .into(ReadView("clicks_seen", primaryKey: ["click_id"]) { ViewColumn("click_id", \.clickId) })
        }
        let driver = try PipelineTestDriver(pipeline)
        try driver.click(1, user: 1, at: 0)
        try driver.sendBytes(Array(#"{"something":"else"}"#.utf8), to: "clicks", type: "Other", at: ms(0))
        let summary = try driver.run()
        #expect(summary.skipped == 1)
        #expect(try driver.rows("clicks_seen").count == 1)
        #expect(try driver.deadLetters().isEmpty)
    }

    @Test func mergeJoinsTwoTopics() throws {
        let pipeline = Pipeline("merged", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .merge(Source("more-clicks", as: Click.self, type: "Click", time: \.at))
                .keyBy("user_id", \.userId)
                .aggregate { Count("clicks") }
                .into(ReadView("clicks_per_user", primaryKey: ["user_id"]))
        }
        let driver = try PipelineTestDriver(pipeline)
        try driver.click(1, user: 1, at: 0)
        try driver.send(Click(clickId: 2, userId: 1, page: "/", dwellMs: 1, at: ms(5)), to: "more-clicks", type: "Click", at: ms(5))
        try driver.run()
        #expect(try driver.rows("clicks_per_user").map { int($0["clicks"]) } == [2])
    }
}

@Suite struct BadInputTests {
        @Test func undecodableEventsGoToDeadLettersAndThePipelineGoesOn() throws {
        let driver = try PipelineTestDriver(clicksPerUser)
        try driver.click(1, user: 1, at: 0)
        let badOffset = try driver.sendBytes(Array(#"{"clickId": 2, "userId": "#.utf8), to: "clicks", key: "1", type: "Click", at: ms(1))
        try driver.sendBytes(Array(#"{"clickId": 3, "userId": 1, "page": "/", "dwellMs": 1, "isBot": false}"#.utf8), to: "clicks", type: "Click", at: ms(2))
        try driver.click(4, user: 1, at: 3)
        let summary = try driver.run()
        #expect(summary.deadLetters == 2)
        #expect(try driver.rows("clicks_per_user").map { int($0["clicks"]) } == [2])
        let letters = try driver.deadLetters()
        #expect(letters.map { int($0["offset"]) } == [badOffset, badOffset + 1])
        #expect(letters.map { text($0["topic"]) } == ["clicks", "clicks"])
        #expect(text(letters[1]["error"])?.contains("at") == true)
        #expect(text(letters[0]["value"]) == #"{"clickId": 2, "userId": "#)
    }

    @Test func aDeadLetterKeepsBytesThatAreNotUTF8AsTheyWere() throws {
        let driver = try PipelineTestDriver(clicksPerUser)
        let bytes: [UInt8] = Array(#"{"clickId": 2, "page": "bad"#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8)
        try driver.sendBytes(bytes, to: "clicks", key: "1", type: "Click", at: ms(1))
        #expect(try driver.run().deadLetters == 1)
        let letter = try #require(try driver.deadLetters().first)
        #expect(letter["value"]?.data == Data(bytes))
        #expect(text(letter["error"])?.contains("invalid UTF-8") == true)
    }

    @Test func aVersionBumpIsRefusedUntilRebuild() throws {
        let driver = try PipelineTestDriver(clicksPerUser)
        try driver.click(1, user: 1, at: 0)
        try driver.run()
        let bumped = Pipeline("counts", version: 2, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId)
                .aggregate { Count("clicks"); Sum("dwell_ms", \.dwellMs) }
                .into(ReadView("clicks_per_user", primaryKey: ["user_id"]))
        }
        try driver.replace(with: bumped)
        let error = #expect(throws: RunnelError.self) { try driver.run() }
        #expect(error?.code == .pipelineVersion)
        #expect(error?.description.contains("--rebuild") == true)
        try driver.replace(with: bumped, rebuild: true)
        try driver.run()
        let rows = try driver.rows("clicks_per_user")
        #expect(rows.map { int($0["dwell_ms"]) } == [100])
    }
}

@Suite struct EnrichTests {
    func pipeline(_ missing: MissingRow<UserRow>) -> Pipeline {
        Pipeline("enriched", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .enrich(from: LookupTable<UserRow>("users", key: "user_id"), on: \.userId, ifMissing: missing) { click, user in
                    (click.clickId, user.country)
                }
                .into(ReadView("click_countries", primaryKey: ["click_id"]) {
                    ViewColumn("click_id") { $0.0 }
                    ViewColumn("country") { $0.1 }
                })
        }
    }

    func drive(_ missing: MissingRow<UserRow>) throws -> (PipelineTestDriver, [String?]) {
        let fixtures = try TemporaryHome()
        let driver = try PipelineTestDriver(pipeline(missing), migrations: try usersMigrations(fixtures))
        try driver.click(1, user: 1, at: 0)
        try driver.click(2, user: 99, at: 1)
        try driver.click(3, user: 2, at: 2)
        try driver.run()
        return (driver, try driver.rows("click_countries", orderBy: "click_id").map { text($0["country"]) })
    }

    @Test func aMissingRowCanBeDeadLettered() throws {
        let (driver, countries) = try drive(.deadLetter)
        #expect(countries == ["NL", "FR"])
        let letters = try driver.deadLetters()
        #expect(letters.count == 1)
        #expect(text(letters.first?["error"]) == "no row in users with user_id = 99")
    }

    @Test func aMissingRowCanBeDroppedOrSubstituted() throws {
        #expect(try drive(.drop).1 == ["NL", "FR"])
        let (driver, countries) = try drive(.substitute(UserRow(userId: 0, country: "??")))
        #expect(countries == ["NL", "??", "FR"])
        #expect(try driver.deadLetters().isEmpty)
    }

    @Test func aRowInsertedLaterIsFound() throws {
        let fixtures = try TemporaryHome()
        let driver = try PipelineTestDriver(pipeline(.deadLetter), migrations: try usersMigrations(fixtures))
        try driver.click(1, user: 3, at: 0)
        try driver.run()
        try driver.store.app.write { try $0.execute(sql: "INSERT INTO users VALUES (3, 'DE')") }
        try driver.click(2, user: 3, at: 1)
        try driver.run()
        #expect(try driver.rows("click_countries").map { text($0["country"]) } == ["DE"])
        #expect(try driver.deadLetters().count == 1)
    }
}

@Suite struct DedupeTests {
    @Test func repeatsWithinTheHorizonAreDropped() throws {
        let pipeline = Pipeline("deduped", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .dedupe(by: \.clickId, within: .minutes(10))
                .keyBy("user_id", \.userId)
                .aggregate { Count("clicks") }
                .into(ReadView("clicks_per_user", primaryKey: ["user_id"]))
        }
        let driver = try PipelineTestDriver(pipeline, batchSize: 2)
        try driver.click(1, user: 1, at: 0)
        try driver.click(1, user: 1, at: 1_000)            // a retry: dropped
        try driver.click(2, user: 1, at: 2_000)
        try driver.click(1, user: 1, at: 3_000)            // dropped again, across a batch
        #expect(try driver.run().dropped == 2)
        driver.restart()
        try driver.click(2, user: 1, at: 4_000)            // dropped: state survived the restart
        try driver.click(1, user: 1, at: 30 * minute)      // beyond the horizon: counted
        try driver.run()
        #expect(try driver.rows("clicks_per_user").map { int($0["clicks"]) } == [3])
    }
}
