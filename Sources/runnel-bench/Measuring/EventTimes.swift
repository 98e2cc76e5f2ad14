/// When each event of a latency round committed and when it was seen, in nanoseconds on the
/// probe's clock (0 for not yet), in buffers allocated once so that recording costs a store.
///
/// Not synchronised: the writer alone stores commit times and the observer alone stores seen
/// times; ``latencies(naming:)`` runs after both have stopped.
final class EventTimes: @unchecked Sendable {
    // @unchecked: see above; each buffer has one writer and is read only after it stops.
    let committed: UnsafeMutableBufferPointer<UInt64>
    let seen: UnsafeMutableBufferPointer<UInt64>

    init(count: Int) {
        committed = .allocate(capacity: count)
        committed.initialize(repeating: 0)
        seen = .allocate(capacity: count)
        seen.initialize(repeating: 0)
    }

    deinit {
        committed.deallocate()
        seen.deallocate()
    }

    /// Each event's commit-to-seen latency.
    /// - Parameter naming: How to name event `index` in an error ("event seq 42").
    /// - Throws: When an event was never committed or never seen.
    func latencies(naming: (Int) -> String) throws -> LatencyRecorder {
        var recorder = LatencyRecorder()
        for index in 0..<committed.count {
            guard committed[index] > 0, seen[index] > 0 else {
                throw BenchmarkError("\(naming(index)) was \(committed[index] == 0 ? "never committed" : "never seen")")
            }
            // The observer may see an event a moment before the writer reads the clock after
            // its commit: that counts as no latency at all.
            recorder.record(.nanoseconds(max(0, Int64(seen[index]) - Int64(committed[index]))))
        }
        return recorder
    }
}
