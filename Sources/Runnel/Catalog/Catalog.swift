import Foundation

/// What an application brings to Runnel: its business migrations and sample data (and, as the
/// toolkit grows, its pipelines, sagas and schedules).
///
/// The `runnel` command line works with any catalog: an application depends on `RunnelCLI` and
/// calls `RunnelCommand.main(catalog:)` with its own.
public struct Catalog: Sendable {
    /// A short name shown in help and summaries.
    public var name: String
    /// The folder of `NNNN_name.sql` business migrations used when `--migrations` is not given.
    public var migrationsDirectory: URL?
    /// The sample data set behind `runnel sample load|generate`, if the application has one.
    public var sampleData: (any SampleDataSet)?

    /// Creates a catalog.
    /// - Parameters:
    ///   - name: A short name shown in help and summaries.
    ///   - migrationsDirectory: The default folder of business migrations.
    ///   - sampleData: The sample data set, if any.
    public init(name: String, migrationsDirectory: URL? = nil, sampleData: (any SampleDataSet)? = nil) {
        self.name = name
        self.migrationsDirectory = migrationsDirectory
        self.sampleData = sampleData
    }
}
