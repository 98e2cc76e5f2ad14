import Foundation
@testable import Runnel
import RunnelTesting
import Testing

/// Counting events of several kinds needs no per-kind fields, a column computed from a
/// window's aggregates needs no custom reduce, and a source's type defaults from its Swift type.
@Suite struct CountingAndComputedColumnTests {
    struct Invited: Codable, Sendable {
        var memberId: Int64
        var at: Date
    }

    struct Accepted: Codable, Sendable {
        var memberId: Int64
        var at: Date
    }

    /// One type for both kinds, after the merge.
    struct Invitation: Sendable {
        enum Kind { case sent, accepted }
        var memberId: Int64
        var kind: Kind
    }

    /// The view's rows as the test reads them, decoded by the driver.
    struct Rate: Decodable, Equatable {
        var memberId: Int64
        var windowStart: Date
        var sent: Int64
        var accepted: Int64
        var acceptanceRate: Double?
        var percent: Double?
    }

    private func acceptance(ratioOf numerator: String = "accepted") -> Pipeline {
        Pipeline("acceptance", version: 1, description: "test") {
            Source("invitations", as: Invited.self, time: \.at)
                .map { Invitation(memberId: $0.memberId, kind: .sent) }
                .merge(Source("invitations", as: Accepted.self, time: \.at).map { Invitation(memberId: $0.memberId, kind: .accepted) })
                .keyBy("member_id", \.memberId)
                .window(.tumbling(.hours(1))) {
                    Count("sent", where: { $0.kind == .sent })
                    Count("accepted", where: { $0.kind == .accepted })
                }
                .ratio("acceptance_rate", numerator, over: "sent")
                .column("percent") { row -> Double? in
                    row["acceptance_rate", as: Double.self].map { ($0 * 100).rounded() }
                }
                .into(ReadView("acceptance_1h", primaryKey: ["member_id", "window_start"]))
        }
    }

    @Test func countsByKindAndARatioOfTwoAggregatesLandTypedInTheView() throws {
        let driver = try PipelineTestDriver(acceptance())
        for (member, minute) in [(1, 1), (1, 2), (1, 3), (2, 4)] {
            try driver.send(Invited(memberId: Int64(member), at: ms(Int64(minute) * 60_000)), to: "invitations", at: ms(Int64(minute) * 60_000))
        }
        try driver.send(Accepted(memberId: 1, at: ms(5 * 60_000)), to: "invitations", at: ms(5 * 60_000))
        try driver.send(Accepted(memberId: 3, at: ms(6 * 60_000)), to: "invitations", at: ms(6 * 60_000))
        try driver.run()

        let rows = try driver.rows("acceptance_1h", as: Rate.self, orderBy: "member_id")
        #expect(rows == [
            Rate(memberId: 1, windowStart: ms(0), sent: 3, accepted: 1, acceptanceRate: 1.0 / 3.0, percent: 33),
            Rate(memberId: 2, windowStart: ms(0), sent: 1, accepted: 0, acceptanceRate: 0, percent: 0),
            Rate(memberId: 3, windowStart: ms(0), sent: 0, accepted: 1, acceptanceRate: nil, percent: nil),
        ])
        // The computed columns are typed in the table SQLite holds.
        let types = try driver.store.derived.read { db in
            try Row.fetchAll(db, sql: "SELECT name, type FROM pragma_table_info('acceptance_1h')").map { "\($0["name"] as String) \($0["type"] as String)" }
        }
        #expect(types.contains("acceptance_rate REAL") && types.contains("percent REAL") && types.contains("sent INTEGER"), "\(types)")
    }

    @Test func aRatioOfAColumnTheRowsLackIsRefusedWhenTheCatalogIsChecked() throws {
        let catalog = Catalog(name: "invites", pipelines: [acceptance(ratioOf: "acepted")])
        let error = try #require(throws: RunnelError.self) { try catalog.validate() }
        #expect(error.message == "pipeline acceptance: ratio acceptance_rate reads column acepted, which the rows do not have; they have member_id, window_start, window_end, sent, accepted")
    }

    @Test func aComputedColumnThatThrowsSendsTheRowToDeadLetters() throws {
        struct Refused: Error, CustomStringConvertible { var description: String { "no rate for bots" } }
        let pipeline = Pipeline("rates", version: 1, description: "test") {
            Source("clicks", as: Click.self, time: \.at)
                .keyBy("user_id", \.userId)
                .aggregate { Count("clicks") }
                .column("score") { row -> Int64 in
                    guard let clicks = row["clicks", as: Int64.self], clicks < 2 else { throw Refused() }
                    return clicks * 10
                }
                .into(ReadView("scores", primaryKey: ["user_id"]))
        }
        let driver = try PipelineTestDriver(pipeline)
        try driver.click(1, user: 7, at: 0)
        try driver.click(2, user: 8, at: 0)
        try driver.click(3, user: 8, at: 1)
        try driver.run()
        #expect(try driver.rows("scores").map { $0["score"] } == [10])
        #expect(try driver.deadLetters().map { $0["error"] } == ["column score failed: no rate for bots"])
    }

    @Test func aSourceReadsItsSwiftTypesNameByDefault() throws {
        let driver = try PipelineTestDriver(acceptance())
        // `send` writes the type header from the Swift type as well; a record of another type is skipped.
        try driver.send(Invited(memberId: 1, at: ms(0)), to: "invitations", at: ms(0))
        try driver.send(Invited(memberId: 1, at: ms(0)), to: "invitations", type: "InvitedLegacy", at: ms(0))
        let summary = try driver.run()
        #expect(summary.skippedByType == ["InvitedLegacy": 1], "\(summary)")
        #expect(try driver.rows("acceptance_1h").map { $0["sent"] } == [1])
    }

    @Test func aSourceTypeTheCatalogDoesNotDeclareIsRefusedWithTheNearestName() throws {
        let typo = Pipeline("accepted", version: 1, description: "test") {
            Source("invitations", as: Accepted.self, type: "InvitationAccept", time: \.at)
                .keyBy("member_id", \.memberId)
                .aggregate { Count("accepted") }
                .into(ReadView("accepted", primaryKey: ["member_id"]))
        }
        let catalog = Catalog(name: "invites", pipelines: [typo], eventTypes: ["InvitationSent", "InvitationAccepted"])
        let error = try #require(throws: RunnelError.self) { try catalog.validate() }
        #expect(error.message == "pipeline accepted reads event type InvitationAccept from topic invitations, which the invites catalog does not declare, so it would skip every record")
        #expect(error.hint?.hasPrefix("Did you mean InvitationAccepted? Declared: InvitationAccepted, InvitationSent.") == true, "\(error.hint ?? "")")

        // Undeclared types are not checked, and a type a pipeline writes counts as declared.
        try Catalog(name: "invites", pipelines: [typo]).validate()
    }

    @Test func theDriversRowsArePlainValuesThatPrintAsThemselves() throws {
        let driver = try PipelineTestDriver(clicksPerUser)
        try driver.click(1, user: 7, at: 0, page: "/jobs")
        try driver.run()
        let row = try #require(try driver.rows("clicks_per_user").first)
        #expect("\(try #require(row["clicks"]))" == "1")
        #expect(row["clicks"] == 1 && row["user_id"]?.int64 == 7)
        // A column the row lacks reads nil, so `??` picks the fallback, never GRDB's SQL operator.
        #expect(row["error"] ?? "none" == "none")
        let offsets = try #require(try driver.rows("runnel_pipelines").first)
        #expect("\(try #require(offsets["name"]))" == "counts", "no quotes around text")
    }

    @Test func rowsDecodeBoolsEnumsAndDatesAndAMissingColumnNamesTheColumnsThereAre() throws {
        let driver = try PipelineTestDriver(clicksPerUser)
        try driver.click(1, user: 7, at: 0)
        try driver.run()

        // A 0/1 integer fills a Bool, text a raw-value enum, milliseconds a Date, any width of integer.
        struct Busy: Decodable { var userId: Int32; var clicks: Bool }
        #expect(try driver.rows("clicks_per_user", as: Busy.self).map(\.clicks) == [true])
        struct State: Decodable {
            enum Name: String, Decodable { case counts }
            var name: Name
            var version: UInt8
            var updatedAt: Date
            var rebuildStartedAt: Date?
        }
        let row = try #require(try driver.rows("runnel_pipelines").first)
        let state = try row.decode(as: State.self)
        #expect(state.name == .counts && state.version == 1 && state.rebuildStartedAt == nil)
        #expect(state.updatedAt == row["updated_at"]?.date)

        struct Typo: Decodable { var clickz: Int64 }
        let error = try #require(throws: DecodingError.self) { try driver.rows("clicks_per_user", as: Typo.self) }
        #expect("\(error)".contains("the row has no column for clickz; it has user_id, clicks"), "\(error)")
    }
}
