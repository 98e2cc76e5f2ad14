import Foundation

/// What an application brings to Runnel: its business migrations, sample data and pipelines
/// (and, as the toolkit grows, its sagas and schedules).
///
/// The `runnel` command line works with any catalog: an application depends on `RunnelCLI` and
/// calls `RunnelCommand.main(catalog:)` with its own.
public struct Catalog: Sendable {
    /// A short name shown in help and summaries.
    public var name: String
    /// The business migrations used when `--migrations` is not given: embedded in the build
    /// (so a copied executable needs no checkout) or a folder.
    public var migrations: Migrations?
    /// The sample data set behind `runnel sample load|generate`, if the application has one.
    public var sampleData: (any SampleDataSet)?
    /// The pipelines `runnel pipelines` lists and `runnel run` runs, in the order `run --all`
    /// runs them.
    public var pipelines: [Pipeline]

    /// Creates a catalog.
    /// - Parameters:
    ///   - name: A short name shown in help and summaries.
    ///   - migrations: The default business migrations.
    ///   - sampleData: The sample data set, if any.
    ///   - pipelines: The application's pipelines.
    public init(name: String, migrations: Migrations? = nil, sampleData: (any SampleDataSet)? = nil, pipelines: [Pipeline] = []) {
        self.name = name
        self.migrations = migrations
        self.sampleData = sampleData
        self.pipelines = pipelines
    }

    /// Checks the catalog before anything runs: pipeline names unique and valid, each pipeline
    /// compiling (a view's primary key and columns against what its stage produces, window
    /// settings), and no read view or KV store written by two pipelines (view names compared
    /// ignoring case, as SQLite compares table names). Every `runnel` command checks the
    /// catalog first; call it from your own tests too.
    /// - Throws: ``RunnelError`` `.pipeline` naming the pipelines and what is wrong.
    public func validate() throws {
        var pipelineNames = Set<String>()
        var viewOwners: [String: (view: String, pipeline: String)] = [:]
        var storeOwners: [String: String] = [:]
        for pipeline in pipelines {
            guard pipelineNames.insert(pipeline.name).inserted else {
                throw RunnelError(.pipeline, "the \(name) catalog has two pipelines named \(pipeline.name)", hint: "Give each pipeline its own name")
            }
            try pipeline.validate()
            let graph = try PipelineGraph(checking: pipeline)
            for view in graph.views.keys.sorted() {
                if let other = viewOwners[view.lowercased()] {
                    throw RunnelError(.pipeline, "read view \(view) of pipeline \(pipeline.name) is also written by pipeline \(other.pipeline)"
                                      + (other.view == view ? "" : " (as \(other.view): SQLite's table names ignore case)"),
                                      hint: "Give one of them another view name")
                }
                viewOwners[view.lowercased()] = (view, pipeline.name)
            }
            for store in graph.kvStores.keys.sorted() {
                if let other = storeOwners[store] {
                    throw RunnelError(.pipeline, "KV store \(store) of pipeline \(pipeline.name) is also written by pipeline \(other)",
                                      hint: "Give one of them another store name")
                }
                storeOwners[store] = pipeline.name
            }
        }
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
