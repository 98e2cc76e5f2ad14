import GRDB

/// A table an ``EventStream/enrich(from:on:ifMissing:_:)`` stage looks rows up in: a business
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
/// let members = Table<MemberRow>("members", key: "member_id")
/// ```
public struct Table<Row: FetchableRecord & Sendable>: Sendable {
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

extension MissingRow {
    /// Does what the pipeline said with an event whose row is missing.
    /// - Parameter problem: The dead letter's error, naming what was looked for.
    func handle<Event, Output>(_ event: Event, _ meta: EventMeta, graph: PipelineGraph, combine: (Event, Row) -> Output,
                               downstream: Emit<Output>, problem: () -> String) throws {
        switch self {
        case .drop:
            graph.dropped += 1
        case .deadLetter:
            graph.deadLetter(problem())
        case .substitute(let row):
            try downstream(combine(event, row), meta)
        }
    }
}

/// The per-run cache of one enrich stage. Only found rows are cached: a row that is missing now
/// may be inserted later, and the next event must see it.
final class LookupCache<Row: FetchableRecord & Sendable> {
    private let table: Table<Row>
    private let pool: DatabasePool
    private var rows: [DatabaseValue: Row] = [:]
    private let sql: String

    init(_ table: Table<Row>, store: Store) {
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
        from table: Table<Row>,
        on key: KeyPath<Event, Key> & Sendable,
        ifMissing: MissingRow<Row>,
        _ combine: @escaping @Sendable (Event, Row) -> Output
    ) -> EventStream<Output> {
        EventStream<Output> { graph, downstream in
            let cache = LookupCache(table, store: graph.store)
            try connect(graph) { event, meta in
                let value = event[keyPath: key].columnValue
                if let row = try cache.row(for: value) {
                    try downstream(combine(event, row), meta)
                    return
                }
                try ifMissing.handle(event, meta, graph: graph, combine: combine, downstream: downstream) {
                    "no row in \(table.name) with \(table.keyColumn) = \(value)"
                }
            }
        }
    }
}
