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
    /// The event types the application writes to its outbox (the `type` of its
    /// ``OutboxEvent``s). When given, ``validate()`` refuses a pipeline source that reads a type
    /// no one writes — a typo that would otherwise skip every record. Types that the
    /// catalog's own pipelines write to derived topics count as declared. Empty: not checked.
    public var eventTypes: Set<String>
    /// The cron-style schedule entries `runnel schedule run` runs.
    public var schedules: [Schedule]
    /// Exception tickets, if the application keeps them: their pipeline is one of
    /// ``pipelines`` (the last), and `runnel tickets` and `runnel report exceptions` read them.
    public var tickets: ExceptionTickets?
    /// The participants sagas talk to: `runnel run NAME` runs one, like a pipeline.
    public var handlers: [Handler]
    /// The sagas: `runnel run NAME` runs a saga's coordinator, `runnel saga …` shows and
    /// steers its instances.
    public var sagas: [Saga]
    /// The application's Kafka cluster, if it has moved onto one (`docs/scale-out.md`): what
    /// `relay --to kafka`, `log mirror` and `run --from kafka` use when no
    /// `--bootstrap-servers` is given. Set it after creating the catalog:
    /// `catalog.kafka = KafkaSettings(bootstrapServers: "broker1:9092")`.
    public var kafka: KafkaSettings?

    /// Creates a catalog.
    /// - Parameters:
    ///   - name: A short name shown in help and summaries.
    ///   - migrations: The default business migrations.
    ///   - sampleData: The sample data set, if any.
    ///   - pipelines: The application's pipelines.
    ///   - eventTypes: The event types the application writes, to check the sources against.
    ///   - schedules: The schedule entries.
    ///   - tickets: Exception tickets; their pipeline is added after `pipelines`, and their
    ///     ``TicketResolved`` type to `eventTypes`.
    ///   - handlers: The participants of the sagas (and any other consumer that changes
    ///     business rows).
    ///   - sagas: The sagas.
    public init(name: String, migrations: Migrations? = nil, sampleData: (any SampleDataSet)? = nil, pipelines: [Pipeline] = [],
                eventTypes: Set<String> = [], schedules: [Schedule] = [], tickets: ExceptionTickets? = nil,
                handlers: [Handler] = [], sagas: [Saga] = []) {
        self.handlers = handlers
        self.sagas = sagas
        self.name = name
        self.migrations = migrations
        self.sampleData = sampleData
        self.pipelines = pipelines + (tickets.map { [$0.pipeline] } ?? [])
        self.eventTypes = eventTypes.isEmpty || tickets == nil ? eventTypes : eventTypes.union([ExceptionTickets.resolvedType])
        self.schedules = schedules
        self.tickets = tickets
    }

    /// Checks the catalog before anything runs: pipeline names unique and valid, each pipeline
    /// compiling (a view's primary key and columns against what its stage produces, the
    /// columns a ratio reads, window settings), no read view or KV store written by two
    /// pipelines (view names compared ignoring case, as SQLite compares table names), and,
    /// when the catalog declares ``eventTypes``, every source reading a declared type. Every
    /// `runnel` command checks the catalog first; call it from your own tests too.
    /// - Throws: ``RunnelError`` `.pipeline` naming the pipelines and what is wrong.
    public func validate() throws {
        var pipelineNames = Set<String>()
        var viewOwners: [String: (view: String, pipeline: String)] = [:]
        var storeOwners: [String: String] = [:]
        var sources: [(pipeline: String, topic: String, type: String)] = []
        var declaredTypes = eventTypes
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
            sources += graph.sourceEventTypes.compactMap { source in source.type.map { (pipeline.name, source.topic, $0) } }
            declaredTypes.formUnion(graph.emittedEventTypes)
        }
        try validateSchedules(kvStores: Set(storeOwners.keys))
        try validateSagas(pipelineNames: pipelineNames)
        for saga in sagas {
            declaredTypes.formUnion(saga.steps.flatMap { step in
                [step.command.type] + step.completions.keys + step.failures + (step.compensation.map { [$0.type] } ?? [])
                    + step.compensationCompletions + step.compensationFailures
            })
        }
        guard !eventTypes.isEmpty else { return }
        for source in sources where !declaredTypes.contains(source.type) {
            let guess = Self.nearest(to: source.type, among: declaredTypes).map { "did you mean \($0)? " } ?? ""
            throw RunnelError(.pipeline, "pipeline \(source.pipeline) reads event type \(source.type) from topic \(source.topic), which the \(name) catalog does not declare, so it would skip every record",
                              hint: "\(guess.prefix(1).uppercased() + guess.dropFirst())Declared: \(declaredTypes.sorted().joined(separator: ", ")). Correct the source's type, or add the type to the catalog's eventTypes")
        }
    }

    /// The declared name closest to a misspelt one, when it is close (a few edits).
    private static func nearest(to name: String, among names: Set<String>) -> String? {
        // Levenshtein distance, one row at a time.
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var row = Array(0...b.count)
            for (i, ca) in a.enumerated() {
                var diagonal = row[0]
                row[0] = i + 1
                for (j, cb) in b.enumerated() {
                    let above = row[j + 1]
                    row[j + 1] = Swift.min(above + 1, row[j] + 1, diagonal + (ca == cb ? 0 : 1))
                    diagonal = above
                }
            }
            return row[b.count]
        }
        let target = Array(name)
        let scored = names.map { ($0, distance(target, Array($0))) }.min { ($0.1, $0.0) < ($1.1, $1.0) }
        guard let (best, edits) = scored, edits <= max(2, name.count / 4) else { return nil }
        return best
    }

    /// Handlers and sagas valid, and every name `runnel run` takes (pipelines', handlers',
    /// sagas') unique.
    private func validateSagas(pipelineNames: Set<String>) throws {
        var runnable = pipelineNames.reduce(into: [String: String]()) { $0[$1] = "a pipeline" }
        for handler in handlers {
            try handler.validate()
            if let other = runnable[handler.name] {
                throw RunnelError(.saga, "the \(name) catalog has a handler named \(handler.name) and \(other) of that name", hint: "`runnel run NAME` needs each name once")
            }
            runnable[handler.name] = "a handler"
        }
        var replyTopics: [String: String] = [:]
        for saga in sagas {
            try saga.validate()
            if let other = replyTopics[saga.replyTopic] {
                throw RunnelError(.saga, "sagas \(other) and \(saga.name) of the \(name) catalog both take replies on \(saga.replyTopic)",
                                  hint: "Give each saga its own reply topic (the default, <saga>-replies, is)")
            }
            replyTopics[saga.replyTopic] = saga.name
            if let other = runnable[saga.name] {
                throw RunnelError(.saga, "the \(name) catalog has a saga named \(saga.name) and \(other) of that name", hint: "`runnel run NAME` needs each name once")
            }
            runnable[saga.name] = "a saga"
        }
    }

    /// The handler named `name`, if there is one.
    public func handler(named name: String) -> Handler? { handlers.first { $0.name == name } }

    /// The saga named `name`, if there is one.
    public func saga(named name: String) -> Saga? { sagas.first { $0.name == name } }

    /// The pipeline named `name`.
    /// - Throws: ``RunnelError`` `.notFound`, listing the names there are.
    public func pipeline(named name: String) throws -> Pipeline {
        guard let pipeline = pipelines.first(where: { $0.name == name }) else {
            throw RunnelError(.notFound, "no pipeline named \(name) in the \(self.name) catalog",
                              hint: pipelines.isEmpty ? "This catalog has no pipelines" : "Choose one of: \(pipelines.map(\.name).joined(separator: ", "))")
        }
        return pipeline
    }

    /// Entry names unique and plain, expressions and zones valid, the pipelines and KV stores
    /// their jobs name in the catalog, and tickets kept for a job that reports them.
    private func validateSchedules(kvStores: Set<String>) throws {
        var names = Set<String>()
        for schedule in schedules {
            guard !schedule.name.isEmpty, schedule.name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) }) else {
                throw RunnelError(.schedule, "schedule name \"\(schedule.name)\" in the \(name) catalog is not a plain name",
                                  hint: "Use letters, digits, '-', '_' and '.'")
            }
            guard names.insert(schedule.name).inserted else {
                throw RunnelError(.schedule, "the \(name) catalog has two schedules named \(schedule.name)", hint: "Give each schedule its own name")
            }
            let expression = try schedule.expression()
            guard expression.nextFireTime(after: Date(), in: try schedule.timeZone()) != nil else {
                throw RunnelError(.schedule, "schedule \(schedule.name): \(schedule.cron) never fires (no such date comes in the next \(CronExpression.searchYears) years)",
                                  hint: "Check the day-of-month and month fields: February has no 30th, and April, June, September and November no 31st")
            }
            guard schedule.maximumAttempts >= 1 else {
                throw RunnelError(.schedule, "schedule \(schedule.name): maximumAttempts is \(schedule.maximumAttempts); it must be at least 1")
            }
            if case .runAll(let max) = schedule.missed, max < 1 {
                throw RunnelError(.schedule, "schedule \(schedule.name): .runAll(max: \(max)) would run no missed fire time", hint: "Use .skip, or a max of 1 or more")
            }
            for pipeline in schedule.job.pipelines where !pipelines.contains(where: { $0.name == pipeline }) {
                throw RunnelError(.schedule, "schedule \(schedule.name) runs pipeline \(pipeline), which the \(name) catalog does not have",
                                  hint: pipelines.isEmpty ? "The catalog has no pipelines" : "Choose one of: \(pipelines.map(\.name).joined(separator: ", "))")
            }
            if schedule.job.needsTickets, tickets == nil {
                throw RunnelError(.schedule, "schedule \(schedule.name) writes the exception report, but the \(name) catalog keeps no exception tickets",
                                  hint: "Give the catalog tickets: ExceptionTickets(…), or remove the entry")
            }
            for store in schedule.job.kvStores where !kvStores.contains(store) {
                throw RunnelError(.schedule, "schedule \(schedule.name) publishes KV store \(store), which no pipeline of the \(name) catalog writes",
                                  hint: kvStores.isEmpty ? "The catalog writes no KV store" : "Choose one of: \(kvStores.sorted().joined(separator: ", "))")
            }
        }
    }
}
