/// Reads one field of an event through a key path, in place when it can.
///
/// Applying a `KeyPath` walks its components through the runtime on every call, which cost
/// more per event than the sum or count it feeds. When the key path names a stored property of
/// a struct (or a chain of them) and the field holds no references, the field sits at a fixed
/// byte offset in every event (`MemoryLayout.offset(of:)`), so the reader loads it from there;
/// otherwise (classes, computed properties, strings) it applies the key path as before. Both
/// give the same value.
struct FieldReader<Event, Value>: Sendable {
    private let keyPath: KeyPath<Event, Value> & Sendable
    /// The field's byte offset in `Event`, when it can be loaded in place.
    private let offset: Int?

    init(_ keyPath: KeyPath<Event, Value> & Sendable) {
        self.keyPath = keyPath
        offset = _isPOD(Value.self) ? MemoryLayout<Event>.offset(of: keyPath) : nil
    }

    /// The field's value in `event`.
    @inline(__always)
    func callAsFunction(_ event: Event) -> Value {
        guard let offset else { return event[keyPath: keyPath] }
        return withUnsafePointer(to: event) { UnsafeRawPointer($0).load(fromByteOffset: offset, as: Value.self) }
    }
}
