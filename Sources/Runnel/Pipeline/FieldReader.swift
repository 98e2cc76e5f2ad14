/// Reads one field of an event through a key path, in place when it can.
///
/// Applying a `KeyPath` walks its components through the runtime on every call, which cost
/// more per event than the sum or count it feeds. When the key path names a stored property of
/// a struct (or a chain of them) and the field holds no references, the field sits at a fixed
/// byte offset in every event (`MemoryLayout.offset(of:)`), so the reader loads it from there;
/// otherwise (classes, computed properties, strings) it applies the key path as before. Both
/// give the same value.
///
/// Keep a reader in the accumulator or closure that uses it, rather than a closure around it: a
/// closure stored in an object costs a retain and a release of its context at every call.
struct FieldReader<Event, Value>: Sendable {
    /// Applies the key path, where the field cannot be loaded in place.
    private let read: @Sendable (Event) -> Value
    /// The field's byte offset in `Event`, when it can be loaded in place.
    private let offset: Int?

    init(_ keyPath: KeyPath<Event, Value> & Sendable) {
        read = { $0[keyPath: keyPath] }
        offset = _isPOD(Value.self) ? MemoryLayout<Event>.offset(of: keyPath) : nil
    }

    /// Reads an `Int` field as an `Int64`: the same bits where `Int` has 64 of them.
    init(widening keyPath: KeyPath<Event, Int> & Sendable) where Value == Int64 {
        read = { Int64($0[keyPath: keyPath]) }
        offset = MemoryLayout<Int>.size == MemoryLayout<Int64>.size ? MemoryLayout<Event>.offset(of: keyPath) : nil
    }

    /// Whether the field is loaded in place rather than through the key path.
    var readsInPlace: Bool { offset != nil }

    /// The field's value in `event`.
    @inline(__always)
    func callAsFunction(_ event: Event) -> Value {
        guard let offset else { return read(event) }
        return withUnsafePointer(to: event) { UnsafeRawPointer($0).load(fromByteOffset: offset, as: Value.self) }
    }
}
