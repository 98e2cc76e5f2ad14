import Foundation
import Pipelines
import Runnel
import RunnelCLI
import RunnelTesting
import Testing

/// Mistakes across a catalog's pipelines are found when the catalog loads, before any
/// command runs, not when the second of two pipelines first runs on some home.
@Suite struct CatalogValidationTests {
    struct Click: Codable, Sendable {
        var userId: Int64
        var at: Date
    }

    private func counting(_ name: String, into view: String, key: String = "user_id") -> Pipeline {
        Pipeline(name, version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId)
                .aggregate { Count("clicks") }
                .into(ReadView(view, primaryKey: [key]))
        }
    }

    @Test func theSampleCatalogIsValid() throws {
        try SampleCatalog.catalog.validate()
    }

    @Test func aViewWrittenByTwoPipelinesIsRefusedAtLoadWhateverItsCase() throws {
        let catalog = Catalog(name: "shop", pipelines: [counting("first", into: "clicks_per_user"), counting("second", into: "Clicks_Per_User")])
        let error = try #require(throws: RunnelError.self) { try catalog.validate() }
        #expect(error.message == "read view Clicks_Per_User of pipeline second is also written by pipeline first (as clicks_per_user: SQLite's table names ignore case)")
    }

    @Test func aPrimaryKeyTypoIsRefusedAtLoadNamingTheColumnsThereAre() throws {
        let catalog = Catalog(name: "shop", pipelines: [counting("typo", into: "counts", key: "usr_id")])
        let error = try #require(throws: RunnelError.self) { try catalog.validate() }
        #expect(error.message.contains("has primary key column usr_id, which is not one of its columns (user_id, clicks)"), "\(error)")
    }

    @Test func everyCommandChecksTheCatalogFirst() async throws {
        let temporary = try TemporaryHome(label: "catalog-check")
        let catalog = Catalog(name: "shop", pipelines: [counting("first", into: "counts"), counting("second", into: "counts")])
        let transcript = Transcript()
        let status = await RunnelCommand.run(["pipelines", "--home", temporary.home.url.path], catalog: catalog, console: transcript.console)
        let (output, error) = transcript.texts
        #expect(status == 1)
        #expect(output.isEmpty)
        #expect(error.contains("read view counts of pipeline second is also written by pipeline first"))
        #expect(!temporary.home.isInitialized)
    }
}
