import Foundation
import Runnel
import RunnelTesting
import Testing

/// `runnel inspect sql` stops a runaway query at its time limit with a message, instead of
/// running until it is killed.
@Suite struct InspectTimeoutTests {
    static let endless = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"

    @Test func anEndlessRecursiveQueryStopsAtTheTimeLimitWithAMessage() async throws {
        let temporary = try TemporaryHome()
        let home = temporary.home.url.path
        #expect(await runnel("init", "--home", home).status == 0)
        let result = await runnel("inspect", "sql", Self.endless, "--timeout", "1", "--home", home)
        #expect(result.status == 1)
        #expect(result.error.hasPrefix("error: the query on app.sqlite ran past its time limit of 1 s and was stopped"), "\(result.error)")
        #expect(result.error.contains("--timeout SECONDS"))
        #expect(result.error.split(separator: "\n").count == 1)

        // The same limit leaves a query that ends alone, in either database.
        let bounded = Self.endless.replacingOccurrences(of: "FROM n)", with: "FROM n WHERE x < 1000)")
        let finished = await runnel("inspect", "sql", bounded, "--timeout", "1", "--db", "derived", "--format", "csv", "--home", home)
        #expect(finished.status == 0, "\(finished.error)")
        #expect(finished.outputLines.last == "1000")
    }

    @Test(arguments: ["-1", "nan", "soon"])
    func aTimeoutThatIsNotANumberOfSecondsIsAUsageError(_ value: String) async throws {
        let result = await runnel("inspect", "sql", "SELECT 1", "--timeout", value)
        #expect(result.status == 64)
    }
}
