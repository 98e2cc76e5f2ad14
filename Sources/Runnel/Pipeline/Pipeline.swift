/// A named, versioned pipeline: one or more streams, each ending in a sink.
///
/// ```swift
/// Pipeline("member-engagement-5m", version: 1, description: "Per-member activity per 5 minutes") {
///     Source("member-activity", as: ActivityRecorded.self, time: \.occurredAt)
///         .filter { !$0.isBot }
///         .keyBy("member_id", \.memberId)
///         .window(.tumbling(.minutes(5))) { Count("events") }
///         .into(ReadView("member_engagement_5m", primaryKey: ["member_id", "window_start"]))
/// }
/// ```
///
/// Change the logic, bump the version: the runtime refuses to mix state from two versions and
/// asks for a rebuild (`runnel run NAME --rebuild`).
public struct Pipeline: Sendable {
    /// The pipeline's name: lower-case letters, digits, `-`, `_` and `.`.
    public let name: String
    /// The version of its logic, from 1.
    public let version: Int
    /// One line on what it computes.
    public let description: String
    let outputs: [PipelineOutput]

    /// - Parameters:
    ///   - name: A name unique in the catalog (lower-case letters, digits, `-`, `_`, `.`).
    ///   - version: The version of its logic (1 or more); bump it when the logic changes.
    ///   - description: One line on what it computes.
    ///   - outputs: Its streams, each ended by `.into(…)`.
    public init(_ name: String, version: Int, description: String, @OutputsBuilder _ outputs: () -> [PipelineOutput]) {
        self.name = name
        self.version = version
        self.description = description
        self.outputs = outputs()
    }

    /// Checks the name and version.
    public func validate() throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-_.")
        guard !name.isEmpty, name.count <= 100, name.allSatisfy(allowed.contains) else {
            throw RunnelError(.pipeline, "the pipeline name \"\(name)\" is not allowed",
                              hint: "Use 1 to 100 lower-case letters, digits, '-', '_' or '.'")
        }
        guard version >= 1 else {
            throw RunnelError(.pipeline, "pipeline \(name) has version \(version)", hint: "Versions start at 1")
        }
        guard !outputs.isEmpty else {
            throw RunnelError(.pipeline, "pipeline \(name) has no outputs", hint: "End a stream with .into(ReadView(…)) or .into(Topic(…))")
        }
    }

    /// Builds a pipeline's outputs, one `.into(…)` per line.
    @resultBuilder
    public enum OutputsBuilder {
        public static func buildExpression(_ output: PipelineOutput) -> [PipelineOutput] { [output] }
        public static func buildBlock(_ parts: [PipelineOutput]...) -> [PipelineOutput] { parts.flatMap { $0 } }
    }
}

/// Builds a catalog's list of pipelines, one per line.
@resultBuilder
public enum PipelinesBuilder {
    public static func buildExpression(_ pipeline: Pipeline) -> [Pipeline] { [pipeline] }
    public static func buildExpression(_ pipelines: [Pipeline]) -> [Pipeline] { pipelines }
    public static func buildBlock(_ parts: [Pipeline]...) -> [Pipeline] { parts.flatMap { $0 } }
}
