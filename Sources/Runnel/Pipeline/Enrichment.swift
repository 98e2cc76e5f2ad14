import GRDB

/// A table an ``EventStream/enrich(from:on:ifMissing:_:)-(_,_,MissingRow<Row>,_)`` stage looks rows up in: a business
/// table in `app.sqlite` or a read view in `derived.sqlite`, by one key column.
///
/// `Row` decodes a whole row (`SELECT *`); with `Decodable`, set
/// `databaseColumnDecodingStrategy = .convertFromSnakeCase` for snake-case columns.
///
/// ```swift
/// struct MemberRow: Decodable, FetchableRecord, Sendable {
///     static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
///     var memberId: Int64
///     var industry: String
/// }
/// let members = LookupTable<MemberRow>("members", key: "member_id")
/// ```
public struct LookupTable<Row: FetchableRecord & Sendable>: Sendable {
    /// The table's name.
    public let name: String
    /// The column looked up.
    public let keyColumn: String
    /// The database holding the table.
    public let database: DatabaseRole
    /// How many found rows a run keeps in memory.
    public let cacheSize: Int

    /// - Parameters:
    ///   - name: The table.
    ///   - key: The column to look up (ideally its primary key or a unique index).
    ///   - database: `.app` for business tables, `.derived` for read views.
    ///   - cacheSize: Found rows kept per run; when full, the cache starts again empty.
    public init(_ name: String, key: String, in database: DatabaseRole = .app, cacheSize: Int = 100_000) {
        self.name = name
        self.keyColumn = key
        self.database = database
        self.cacheSize = cacheSize
    }
}

/// What an enrich stage does with an event whose row is missing, stated in the pipeline.
public enum MissingRow<Row: Sendable>: Sendable {
    /// Drop the event (counted in the run's summary).
    case drop
    /// Send the event to the pipeline's dead-letter table, naming the missing key.
    case deadLetter
    /// Go on with this row in place of the missing one.
    case substitute(Row)
}

/// The per-run cache of one enrich stage. Only found rows are cached: a row that is missing now
/// may be inserted later, and the next event must see it.
final class LookupCache<Row: FetchableRecord & Sendable> {
    private let table: LookupTable<Row>
    private let pool: DatabasePool
    private var rows: [DatabaseValue: Row] = [:]
    private let sql: String

    init(_ table: LookupTable<Row>, store: Store) {
        self.table = table
        pool = store.database(table.database)
        sql = "SELECT * FROM \(SQLIdentifier.quoted(table.name)) WHERE \(SQLIdentifier.quoted(table.keyColumn)) = ? LIMIT 1"
    }

    func row(for key: DatabaseValue) throws -> Row? {
        if let row = rows[key] { return row }
        let found: Row?
        do {
            found = try pool.read { db in try Row.fetchOne(db.cachedStatement(sql: sql), arguments: [key]) }
        } catch {
            throw RunnelError(.pipeline, "cannot look up \(table.keyColumn) = \(key) in \(table.name) (\(table.database)): \(error)",
                              hint: "Check that the table and column exist and that migrations have run")
        }
        if let found {
            if rows.count >= table.cacheSize { rows.removeAll(keepingCapacity: true) }
            rows[key] = found
        }
        return found
    }
}

extension EventStream {
    /// Joins each event with a row of a table, looked up by one of the event's fields and cached.
    ///
    /// The table is read as it is when the event is processed: a replay after the table changed
    /// can give a different answer, as with any stream-table join.
    ///
    /// - Parameters:
    ///   - table: The table and its key column.
    ///   - key: The event's field holding the key.
    ///   - ifMissing: What to do when no row has the key.
    ///   - combine: Builds the stage's output from the event and its row.
    public func enrich<Row, Key: ColumnValue, Output>(
        from table: LookupTable<Row>,
        on key: KeyPath<Event, Key> & Sendable,
        ifMissing: MissingRow<Row>,
        _ combine: @escaping @Sendable (Event, Row) -> Output
    ) -> EventStream<Output> {
        enrich(ifMissing: ifMissing, combine, lookUp: { graph in
            let cache = LookupCache(table, store: graph.store)
            return { try cache.row(for: $0[keyPath: key].columnValue) }
        }, missing: { "no row in \(table.name) with \(table.keyColumn) = \($0[keyPath: key].columnValue)" })
    }
}

extension EventStream {
    /// What every enrich stage does: looks each event's row up, passes the event on combined
    /// with it, or does what `ifMissing` says.
    /// - Parameters:
    ///   - lookUp: Makes the stage's lookup for one run (its cache lives as long as the graph).
    ///   - missing: The dead letter's error for an event whose row is missing.
    func enrich<Row, Output>(
        ifMissing: MissingRow<Row>,
        _ combine: @escaping @Sendable (Event, Row) -> Output,
        lookUp: @escaping @Sendable (PipelineGraph) -> (Event) throws -> Row?,
        missing: @escaping @Sendable (Event) -> String
    ) -> EventStream<Output> {
        EventStream<Output> { graph, downstream in
            // A graph compiled only to check the pipeline has no store to look rows up in.
            let find: (Event) throws -> Row? = graph.isCheckOnly ? { _ in nil } : lookUp(graph)
            try connect(graph) { event, meta in
                if let row = try find(event) {
                    try downstream(combine(event, row), meta)
                    return
                }
                switch ifMissing {
                case .drop:
                    graph.dropped += 1
                case .deadLetter:
                    graph.deadLetter(missing(event))
                case .substitute(let row):
                    try downstream(combine(event, row), meta)
                }
            }
        }
    }
}
