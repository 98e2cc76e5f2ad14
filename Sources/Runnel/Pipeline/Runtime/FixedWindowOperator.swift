import GRDB

/// Tumbling and hopping windows, and the running aggregate (one endless window per key).
final class FixedWindowOperator<Event>: WindowedAggregation<Event> {
    enum Assignment {
        case tumbling(size: Int64)
        case hopping(size: Int64, advance: Int64)
        /// No window: a running aggregate per key that never closes (a KTable).
        case unbounded
    }

    let assignment: Assignment
    private var slots: [WindowID: WindowSlot<Event>] = [:]
    private var changed: [WindowSlot<Event>] = []

    init(_ assignment: Assignment, keyColumns: [ColumnDefinition], aggregates: [any AggregateFunction<Event>], emit: EmitPolicy, lateness: TimeSpan) {
        self.assignment = assignment
        var hasWindow = true
        if case .unbounded = assignment { hasWindow = false }
        super.init(keyColumns: keyColumns, aggregates: aggregates, emit: emit, lateness: lateness, hasWindowColumns: hasWindow)
    }

    func input(_ graph: PipelineGraph) -> Emit<Event> {
        { [unowned self] event, meta in
            guard let key = meta.key else { return }
            switch assignment {
            case .unbounded:
                update(key: key, start: 0, end: Int64.max, event, meta)
            case .tumbling(let size):
                let start = floorDivide(meta.time, size) * size
                if isLate(end: start + size, meta, graph) { return }
                update(key: key, start: start, end: start + size, event, meta)
            case .hopping(let size, let advance):
                // Every window [start, start + size) holding the event, latest start first.
                var start = floorDivide(meta.time, advance) * advance
                var taken = 0, late = false
                while start + size > meta.time {
                    if isLate(end: start + size, meta, graph, record: false) {
                        late = true
                    } else {
                        update(key: key, start: start, end: start + size, event, meta)
                        taken += 1
                    }
                    start -= advance
                }
                if taken == 0, late { _ = isLate(end: Int64.min, meta, graph) }
            }
        }
    }

    /// True (and the event recorded in the late table) when the window ending at `end` has
    /// closed for the event's partition: its stream time less the lateness is at or past `end`.
    private func isLate(end: Int64, _ meta: EventMeta, _ graph: PipelineGraph, record: Bool = true) -> Bool {
        let watermark = max((graph.streamTime(of: meta.input) ?? Int64.min) &- lateness, closedThrough)
        guard end <= watermark else { return false }
        if record {
            graph.late(meta, watermark: watermark, reason: "its window closed: event time \(meta.time) is more than \(TimeSpan(milliseconds: lateness)) behind the stream time")
        }
        return true
    }

    private func update(key: GroupKey, start: Int64, end: Int64, _ event: Event, _ meta: EventMeta) {
        let id = WindowID(key: key, start: start)
        let slot: WindowSlot<Event>
        if let existing = slots[id] {
            slot = existing
        } else {
            slot = makeSlot(key: key, start: start, end: end)
            slots[id] = slot
        }
        if !slot.changed { changed.append(slot) }
        slot.add(event, meta)
    }

    override func restore(_ db: Database, graph: PipelineGraph) throws {
        try loadSlots(db) { slot in slots[WindowID(key: slot.key, start: slot.start)] = slot }
        if let closing = graph.closingTime, !isUnbounded { closedThrough = closing &- lateness }
    }

    private var isUnbounded: Bool {
        if case .unbounded = assignment { return true }
        return false
    }

    override func flush(_ db: Database, graph: PipelineGraph) throws {
        if emit == .onUpdate {
            for slot in Self.ordered(changed) { try send(slot) }
        }
        if !isUnbounded, let closing = graph.closingTime.map({ $0 &- lateness }), closing > closedThrough {
            closedThrough = closing
            let closed = slots.values.filter { $0.end <= closing }
            for slot in Self.ordered(closed) {
                if emit == .onClose { try send(slot) }
                slots[WindowID(key: slot.key, start: slot.start)] = nil
                try forget(slot, db)
                slot.changed = false
            }
        }
        for slot in changed where slot.changed {
            try save(slot, db)
            slot.changed = false
        }
        changed.removeAll(keepingCapacity: true)
    }
}

/// Floor division, so windows before 1970 line up too.
@inline(__always)
func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
    let quotient = value / divisor
    return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient
}
