import Foundation
import GRDB

/// Something a window or running aggregate computes per key: a count, a sum, a custom reduce.
/// Each gives one column of the rows the window emits.
public protocol AggregateFunction<Event>: Sendable {
    associatedtype Event
    /// The output column.
    var column: ColumnDefinition { get }
    /// Whether two partial results can be merged (session windows merge sessions).
    var canMerge: Bool { get }
    /// A fresh accumulator for one window and key.
    func makeAccumulator() -> Accumulator<Event>
}

extension AggregateFunction {
    public var canMerge: Bool { true }
}

/// The running state of one aggregate in one window for one key. Subclasses keep their values
/// in stored properties, so adding an event allocates nothing.
public class Accumulator<Event> {
    /// The next accumulator of the same window, for the per-event loop (see ``WindowSlot``).
    /// Unmanaged: the window's array keeps every accumulator alive.
    var next: Unmanaged<Accumulator<Event>>?
    /// Whether a window has chained this accumulator; one chained twice would link windows.
    var isChained = false

    init() {}
    /// Takes one event.
    func add(_ event: Event, _ meta: EventMeta) {}
    /// Folds in another accumulator of the same aggregate (session merges).
    func merge(_ other: Accumulator<Event>) {}
    /// The column value the window emits.
    var result: DatabaseValue { .null }
    /// Saves the state for the next batch.
    /// - Throws: When the state cannot be written: the batch then fails rather than commit a
    ///   state that would not restore.
    func save(_ writer: inout StateWriter) throws {}
    /// Restores what ``save(_:)`` wrote.
    func restore(_ reader: inout StateReader) throws {}
}

/// Builds the list of a window's aggregates: each line is one aggregate over the stream's event
/// type, which the builder knows, so key paths need no type annotation.
@resultBuilder
public enum AggregatesBuilder<Event> {
    public static func buildExpression(_ aggregate: some AggregateFunction<Event>) -> [any AggregateFunction<Event>] {
        [aggregate]
    }

    public static func buildBlock(_ parts: [any AggregateFunction<Event>]...) -> [any AggregateFunction<Event>] {
        parts.flatMap { $0 }
    }

    public static func buildOptional(_ part: [any AggregateFunction<Event>]?) -> [any AggregateFunction<Event>] {
        part ?? []
    }

    public static func buildEither(first part: [any AggregateFunction<Event>]) -> [any AggregateFunction<Event>] { part }
    public static func buildEither(second part: [any AggregateFunction<Event>]) -> [any AggregateFunction<Event>] { part }
}

// MARK: - Count

/// The number of events, or of the events that pass a test.
///
/// Counting several kinds of event side by side needs no per-kind fields: give the merged
/// events one type that says their kind, and count each kind with its own test:
///
/// ```swift
/// .window(.tumbling(.hours(1))) {
///     Count("sent", where: { $0.kind == .sent })
///     Count("accepted", where: { $0.kind == .accepted })
/// }
/// ```
public struct Count<Event>: AggregateFunction {
    public let column: ColumnDefinition
    private let isIncluded: (@Sendable (Event) -> Bool)?

    /// Counts every event.
    /// - Parameter column: The output column.
    public init(_ column: String) {
        self.column = ColumnDefinition(column, Int64.self)
        isIncluded = nil
    }

    /// Counts the events for which `isIncluded` returns true (0 in a window where none does).
    /// - Parameters:
    ///   - column: The output column.
    ///   - isIncluded: Which events count.
    public init(_ column: String, where isIncluded: @escaping @Sendable (Event) -> Bool) {
        self.column = ColumnDefinition(column, Int64.self)
        self.isIncluded = isIncluded
    }

    public func makeAccumulator() -> Accumulator<Event> {
        if let isIncluded { return FilteredCountAccumulator(isIncluded) }
        return CountAccumulator()
    }
}

/// A count that only takes the events its test passes; saved and merged as a plain count.
final class FilteredCountAccumulator<Event>: CountAccumulator<Event> {
    let isIncluded: (Event) -> Bool
    init(_ isIncluded: @escaping (Event) -> Bool) { self.isIncluded = isIncluded }
    override func add(_ event: Event, _ meta: EventMeta) {
        if isIncluded(event) { count &+= 1 }
    }
}

class CountAccumulator<Event>: Accumulator<Event> {
    var count: Int64 = 0
    override func add(_ event: Event, _ meta: EventMeta) { count &+= 1 }
    override func merge(_ other: Accumulator<Event>) { count &+= (other as! CountAccumulator).count }
    override var result: DatabaseValue { count.databaseValue }
    override func save(_ writer: inout StateWriter) { writer.int64(count) }
    override func restore(_ reader: inout StateReader) throws { count = try reader.int64() }
}

// MARK: - Sum

/// The sum of an integer or floating-point field.
public struct Sum<Event>: AggregateFunction {
    public let column: ColumnDefinition
    private let make: @Sendable () -> Accumulator<Event>

    /// Sums an integer field (wrapping is not checked: 64 bits hold any realistic sum).
    public init(_ column: String, _ field: KeyPath<Event, Int64> & Sendable) {
        self.column = ColumnDefinition(column, Int64.self)
        let field = FieldReader(field)
        make = { IntegerSumAccumulator(field) }
    }

    /// Sums an `Int` field.
    public init(_ column: String, _ field: KeyPath<Event, Int> & Sendable) {
        self.column = ColumnDefinition(column, Int64.self)
        let field = FieldReader(widening: field)
        make = { IntegerSumAccumulator(field) }
    }

    /// Sums a `Double` field.
    public init(_ column: String, _ field: KeyPath<Event, Double> & Sendable) {
        self.column = ColumnDefinition(column, Double.self)
        let field = FieldReader(field)
        make = { DoubleSumAccumulator(field) }
    }

    public func makeAccumulator() -> Accumulator<Event> { make() }
}

final class IntegerSumAccumulator<Event>: Accumulator<Event> {
    let field: FieldReader<Event, Int64>
    var sum: Int64 = 0
    init(_ field: FieldReader<Event, Int64>) { self.field = field }
    override func add(_ event: Event, _ meta: EventMeta) { sum &+= field(event) }
    override func merge(_ other: Accumulator<Event>) { sum &+= (other as! IntegerSumAccumulator).sum }
    override var result: DatabaseValue { sum.databaseValue }
    override func save(_ writer: inout StateWriter) { writer.int64(sum) }
    override func restore(_ reader: inout StateReader) throws { sum = try reader.int64() }
}

final class DoubleSumAccumulator<Event>: Accumulator<Event> {
    let field: FieldReader<Event, Double>
    var sum: Double = 0
    init(_ field: FieldReader<Event, Double>) { self.field = field }
    override func add(_ event: Event, _ meta: EventMeta) { sum += field(event) }
    override func merge(_ other: Accumulator<Event>) { sum += (other as! DoubleSumAccumulator).sum }
    override var result: DatabaseValue { sum.databaseValue }
    override func save(_ writer: inout StateWriter) { writer.int64(Int64(bitPattern: sum.bitPattern)) }
    override func restore(_ reader: inout StateReader) throws { sum = Double(bitPattern: UInt64(bitPattern: try reader.int64())) }
}

// MARK: - Average

/// The mean of a numeric field (`NULL` for a window without events).
public struct Average<Event>: AggregateFunction {
    public let column: ColumnDefinition
    private let field: @Sendable (Event) -> Double

    public init(_ column: String, _ field: KeyPath<Event, Int64> & Sendable) {
        self.column = ColumnDefinition(column, Double?.self)
        let field = FieldReader(field)
        self.field = { Double(field($0)) }
    }

    public init(_ column: String, _ field: KeyPath<Event, Double> & Sendable) {
        self.column = ColumnDefinition(column, Double?.self)
        let field = FieldReader(field)
        self.field = { field($0) }
    }

    public func makeAccumulator() -> Accumulator<Event> { AverageAccumulator(field) }
}

final class AverageAccumulator<Event>: Accumulator<Event> {
    let field: (Event) -> Double
    var sum: Double = 0
    var count: Int64 = 0
    init(_ field: @escaping (Event) -> Double) { self.field = field }
    override func add(_ event: Event, _ meta: EventMeta) {
        sum += field(event)
        count += 1
    }
    override func merge(_ other: Accumulator<Event>) {
        let other = other as! AverageAccumulator
        sum += other.sum
        count += other.count
    }
    override var result: DatabaseValue { count == 0 ? .null : (sum / Double(count)).databaseValue }
    override func save(_ writer: inout StateWriter) {
        writer.int64(Int64(bitPattern: sum.bitPattern))
        writer.int64(count)
    }
    override func restore(_ reader: inout StateReader) throws {
        sum = Double(bitPattern: UInt64(bitPattern: try reader.int64()))
        count = try reader.int64()
    }
}
