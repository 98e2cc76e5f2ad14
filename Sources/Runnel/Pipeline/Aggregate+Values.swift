import Foundation
import GRDB

// Aggregates that keep a value of the field's own type: min, max, latest, distinct count.

/// The smallest value of a field (`NULL` when no event had one).
public struct Min<Event>: AggregateFunction {
    public let column: ColumnDefinition
    private let make: @Sendable () -> Accumulator<Event>

    public init<Value: ColumnValue & Comparable>(_ column: String, _ field: KeyPath<Event, Value> & Sendable) {
        self.column = ColumnDefinition(column, Value?.self)
        let field = FieldReader(field)
        make = { ExtremeAccumulator<Event, Value>(keepsLarger: false) { field($0) } }
    }

    /// The smallest non-nil value of an optional field.
    public init<Value: ColumnValue & Comparable>(_ column: String, _ field: KeyPath<Event, Value?> & Sendable) {
        self.column = ColumnDefinition(column, Value?.self)
        let field = FieldReader(field)
        make = { ExtremeAccumulator<Event, Value>(keepsLarger: false) { field($0) } }
    }

    public func makeAccumulator() -> Accumulator<Event> { make() }
}

/// The largest value of a field (`NULL` when no event had one).
public struct Max<Event>: AggregateFunction {
    public let column: ColumnDefinition
    private let make: @Sendable () -> Accumulator<Event>

    public init<Value: ColumnValue & Comparable>(_ column: String, _ field: KeyPath<Event, Value> & Sendable) {
        self.column = ColumnDefinition(column, Value?.self)
        let field = FieldReader(field)
        make = { ExtremeAccumulator<Event, Value>(keepsLarger: true) { field($0) } }
    }

    /// The largest non-nil value of an optional field.
    public init<Value: ColumnValue & Comparable>(_ column: String, _ field: KeyPath<Event, Value?> & Sendable) {
        self.column = ColumnDefinition(column, Value?.self)
        let field = FieldReader(field)
        make = { ExtremeAccumulator<Event, Value>(keepsLarger: true) { field($0) } }
    }

    public func makeAccumulator() -> Accumulator<Event> { make() }
}

final class ExtremeAccumulator<Event, Value: ColumnValue & Comparable>: Accumulator<Event> {
    let keepsLarger: Bool
    let field: (Event) -> Value?
    var value: Value?

    init(keepsLarger: Bool, _ field: @escaping (Event) -> Value?) {
        self.keepsLarger = keepsLarger
        self.field = field
    }

    private func offer(_ candidate: Value?) {
        guard let candidate else { return }
        guard let current = value else { value = candidate; return }
        if keepsLarger ? candidate > current : candidate < current { value = candidate }
    }

    override func add(_ event: Event, _ meta: EventMeta) { offer(field(event)) }
    override func merge(_ other: Accumulator<Event>) { offer((other as! ExtremeAccumulator).value) }
    override var result: DatabaseValue { value?.columnValue ?? .null }
    override func save(_ writer: inout StateWriter) { writer.value(result) }
    override func restore(_ reader: inout StateReader) throws {
        let saved = try reader.value()
        value = saved.isNull ? nil : Value.fromColumn(saved)
    }
}

/// The value of a field in the event with the latest event time (ties go to the later
/// offset): "the current headline". Nil values of an optional field are passed over, so
/// events that do not carry the field leave it alone.
public struct Latest<Event>: AggregateFunction {
    public let column: ColumnDefinition
    private let make: @Sendable () -> Accumulator<Event>

    public init<Value: ColumnValue>(_ column: String, _ field: KeyPath<Event, Value> & Sendable) {
        self.column = ColumnDefinition(column, Value?.self)
        let field = FieldReader(field)
        make = { LatestAccumulator<Event> { field($0).columnValue } }
    }

    public init<Value: ColumnValue>(_ column: String, _ field: KeyPath<Event, Value?> & Sendable) {
        self.column = ColumnDefinition(column, Value?.self)
        let field = FieldReader(field)
        make = { LatestAccumulator<Event> { field($0)?.columnValue } }
    }

    public func makeAccumulator() -> Accumulator<Event> { make() }
}

final class LatestAccumulator<Event>: Accumulator<Event> {
    let field: (Event) -> DatabaseValue?
    var value: DatabaseValue = .null
    /// The event time, input and offset of the value kept: a total order, so the answer does
    /// not depend on the order events arrive in.
    var time = Int64.min, input = -1, offset: Int64 = -1

    init(_ field: @escaping (Event) -> DatabaseValue?) { self.field = field }

    private func offer(_ candidate: DatabaseValue, time: Int64, input: Int, offset: Int64) {
        guard (time, input, offset) > (self.time, self.input, self.offset) else { return }
        (value, self.time, self.input, self.offset) = (candidate, time, input, offset)
    }

    override func add(_ event: Event, _ meta: EventMeta) {
        guard let candidate = field(event) else { return }
        offer(candidate, time: meta.time, input: meta.input, offset: meta.offset)
    }
    override func merge(_ other: Accumulator<Event>) {
        let other = other as! LatestAccumulator
        if other.time > Int64.min { offer(other.value, time: other.time, input: other.input, offset: other.offset) }
    }
    override var result: DatabaseValue { value }
    override func save(_ writer: inout StateWriter) {
        writer.value(value)
        writer.int64(time)
        writer.int64(Int64(input))
        writer.int64(offset)
    }
    override func restore(_ reader: inout StateReader) throws {
        value = try reader.value()
        time = try reader.int64()
        input = Int(try reader.int64())
        offset = try reader.int64()
    }
}

/// The number of distinct values of a field. The values are kept in the window's state, so use
/// it where a window holds thousands of them, not millions.
public struct DistinctCount<Event>: AggregateFunction {
    public let column: ColumnDefinition
    private let make: @Sendable () -> Accumulator<Event>

    public init<Value: ColumnValue & Hashable>(_ column: String, _ field: KeyPath<Event, Value> & Sendable) {
        self.column = ColumnDefinition(column, Int64.self)
        let field = FieldReader(field)
        make = { DistinctAccumulator<Event> { field($0).columnValue } }
    }

    public func makeAccumulator() -> Accumulator<Event> { make() }
}

final class DistinctAccumulator<Event>: Accumulator<Event> {
    let field: (Event) -> DatabaseValue
    var values: Set<DatabaseValue> = []
    init(_ field: @escaping (Event) -> DatabaseValue) { self.field = field }
    override func add(_ event: Event, _ meta: EventMeta) { values.insert(field(event)) }
    override func merge(_ other: Accumulator<Event>) { values.formUnion((other as! DistinctAccumulator).values) }
    override var result: DatabaseValue { Int64(values.count).databaseValue }
    override func save(_ writer: inout StateWriter) {
        // Sorted, so equal states save equal bytes.
        writer.values(values.sorted { $0.description < $1.description })
    }
    override func restore(_ reader: inout StateReader) throws { values = Set(try reader.values()) }
}

/// A custom aggregate: a `State` folded over the events, and the column value drawn from it.
///
/// ```swift
/// Reduce("top_page", initial: [String: Int](), { pages, view in pages[view.page, default: 0] += 1 },
///        result: { pages in pages.max { $0.value < $1.value }?.key ?? "" })
/// ```
/// `State` is saved as JSON with every batch that changes it. Give `merge` to use the reduce
/// in a session window.
public struct Reduce<Event, State: Codable & Sendable, Value: ColumnValue>: AggregateFunction {
    public let column: ColumnDefinition
    let initial: State
    let update: @Sendable (inout State, Event) -> Void
    let mergeStates: (@Sendable (inout State, State) -> Void)?
    let finish: @Sendable (State) -> Value

    public init(
        _ column: String,
        initial: State,
        _ update: @escaping @Sendable (inout State, Event) -> Void,
        merge: (@Sendable (inout State, State) -> Void)? = nil,
        result: @escaping @Sendable (State) -> Value
    ) {
        self.column = ColumnDefinition(column, Value.self)
        self.initial = initial
        self.update = update
        self.mergeStates = merge
        self.finish = result
    }

    public var canMerge: Bool { mergeStates != nil }

    public func makeAccumulator() -> Accumulator<Event> {
        ReduceAccumulator(initial: initial, update: update, merge: mergeStates, finish: { finish($0).columnValue })
    }
}

final class ReduceAccumulator<Event, State: Codable>: Accumulator<Event> {
    var state: State
    let update: (inout State, Event) -> Void
    let mergeStates: ((inout State, State) -> Void)?
    let finish: (State) -> DatabaseValue

    init(initial: State, update: @escaping (inout State, Event) -> Void, merge: ((inout State, State) -> Void)?, finish: @escaping (State) -> DatabaseValue) {
        state = initial
        self.update = update
        mergeStates = merge
        self.finish = finish
    }

    override func add(_ event: Event, _ meta: EventMeta) { update(&state, event) }
    override func merge(_ other: Accumulator<Event>) { mergeStates?(&state, (other as! ReduceAccumulator).state) }
    override var result: DatabaseValue { finish(state) }
    /// JSON has no NaN or infinities, which a Double state reaches easily (0/0, an overflow):
    /// they are saved as these strings so the state round-trips instead of failing to encode.
    private static var floats: (positiveInfinity: String, negativeInfinity: String, nan: String) { ("+inf", "-inf", "nan") }

    override func save(_ writer: inout StateWriter) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let floats = Self.floats
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: floats.positiveInfinity,
                                                                      negativeInfinity: floats.negativeInfinity, nan: floats.nan)
        do {
            writer.value(try encoder.encode(state).databaseValue)
        } catch {
            throw RunnelError(.pipeline, "a Reduce state of type \(State.self) cannot be saved as JSON: \(error)",
                              hint: "Make the state's Encodable conformance encode every value it holds; the batch was not committed")
        }
    }
    override func restore(_ reader: inout StateReader) throws {
        guard let data = Data.fromDatabaseValue(try reader.value()) else { throw StateReader.Damaged() }
        let decoder = JSONDecoder()
        let floats = Self.floats
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: floats.positiveInfinity,
                                                                        negativeInfinity: floats.negativeInfinity, nan: floats.nan)
        do {
            state = try decoder.decode(State.self, from: data)
        } catch {
            throw StateReader.Damaged()
        }
    }
}
