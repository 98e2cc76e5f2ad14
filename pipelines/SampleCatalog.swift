import Foundation
import Runnel

/// The catalog of the sample professional network: its business migrations, its data set, its pipelines (and,
/// in later versions, its sagas and schedules). `Sources/runnel/main.swift` hands it
/// to the command line.
public enum SampleCatalog {
    /// The catalog.
    public static var catalog: Catalog {
        Catalog(
            name: "sample professional network",
            migrationsDirectory: repositoryRoot.appendingPathComponent("migrations", isDirectory: true),
            sampleData: NetworkDataSet(),
            pipelines: SamplePipelines.all)
    }

    /// The checkout this target was built from: `migrations/` and `sample-data/` live there, so a
    /// built `runnel` finds them from any working folder.
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    }
}
