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

    /// Stores event `index`'s commit time, for events numbered by id from `firstID`.
    /// - Throws: When `index` is past the room made, or the id is not `firstID + index` (then
    ///   latencies would be paired wrong); `scenario` names the scenario in the message.
    func committed(_ index: Int, id: Int64, firstID: Int64, at time: UInt64, scenario: String) throws {
        guard index < committed.count else {
            throw BenchmarkError("\(scenario): the writer made more than the \(committed.count) commits there is room for")
        }
        guard id == firstID + Int64(index) else {
            throw BenchmarkError("\(scenario): commit \(index) got id \(id), expected \(firstID + Int64(index))")
        }
        committed[index] = time
    }

    /// Stores the first sighting of each of `ids`, for events numbered by id from `firstID`.
    /// - Returns: How many of them were seen for the first time, and how many again.
    /// - Throws: For an id outside `firstID`'s range.
    func saw(_ ids: some Sequence<Int64>, firstID: Int64, at time: UInt64, scenario: String) throws -> (new: Int, again: Int) {
        var new = 0, again = 0
        for id in ids {
            let index = Int(id - firstID)
            guard index >= 0, index < seen.count else {
                throw BenchmarkError("\(scenario): the reader saw id \(id), outside \(firstID)…\(firstID + Int64(seen.count) - 1)")
            }
            if seen[index] == 0 {
                seen[index] = time
                new += 1
            } else {
                again += 1
            }
        }
        return (new, again)
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
