import Foundation

/// What an application brings to Runnel: its business migrations, sample data and pipelines
/// (and, as the toolkit grows, its sagas and schedules).
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
    /// The pipelines `runnel pipelines` lists and `runnel run` runs, in the order `run --all`
    /// runs them.
    public var pipelines: [Pipeline]

    /// Creates a catalog.
    /// - Parameters:
    ///   - name: A short name shown in help and summaries.
    ///   - migrationsDirectory: The default folder of business migrations.
    ///   - sampleData: The sample data set, if any.
    ///   - pipelines: The application's pipelines.
    public init(name: String, migrationsDirectory: URL? = nil, sampleData: (any SampleDataSet)? = nil, pipelines: [Pipeline] = []) {
        self.name = name
        self.migrationsDirectory = migrationsDirectory
        self.sampleData = sampleData
        self.pipelines = pipelines
    }

    /// The pipeline named `name`.
    /// - Throws: ``RunnelError`` `.notFound`, listing the names there are.
    public func pipeline(named name: String) throws -> Pipeline {
        guard let pipeline = pipelines.first(where: { $0.name == name }) else {
            throw RunnelError(.notFound, "no pipeline named \(name) in the \(self.name) catalog",
                              hint: pipelines.isEmpty ? "This catalog has no pipelines" : "Choose one of: \(pipelines.map(\.name).joined(separator: ", "))")
        }
        return pipeline
    }
}
