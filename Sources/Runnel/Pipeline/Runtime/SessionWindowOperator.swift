import GRDB

/// Session windows: per key, a session grows while events come less than `gap` apart; an event
/// that bridges two sessions merges them. A session's row has `window_start` = its first event
/// time and `window_end` = its last; it closes once the watermark passes its last event plus
/// the gap. With `.onUpdate`, a session that merges away or whose start moves is retracted
/// (deleted from an upserted read view).
final class SessionWindowOperator<Event>: WindowedAggregation<Event> {
    let gap: Int64
    override var windowShape: String { "session window gap \(gap) ms" }
    private var sessions: [GroupKey: [WindowSlot<Event>]] = [:]
    private var changed: [ObjectIdentifier: WindowSlot<Event>] = [:]
    /// Sessions merged away since the last flush.
    private var removed: [WindowSlot<Event>] = []

    init(gap: TimeSpan, keyColumns: [ColumnDefinition], aggregates: [any AggregateFunction<Event>], emit: EmitPolicy, lateness: TimeSpan) {
        self.gap = gap.milliseconds
        super.init(keyColumns: keyColumns, aggregates: aggregates, emit: emit, lateness: lateness, hasWindowColumns: true)
    }

    override func validate(_ graph: PipelineGraph) throws {
        if let aggregate = aggregates.first(where: { !$0.canMerge }) {
            throw RunnelError(.pipeline, "pipeline \(graph.pipeline.name): the aggregate \(aggregate.column.name) cannot be used in a session window, which merges sessions",
                              hint: "Pass `merge:` to the Reduce")
        }
        try super.validate(graph)
    }

    override func input(_ graph: PipelineGraph) -> Emit<Event> {
        { [unowned self] event, meta in
            guard let key = meta.key else { return }
            let time = meta.time
            let watermark = max((graph.streamTime(of: meta.input) ?? Int64.min) &- lateness, closedThrough)
            if time &+ gap <= watermark {
                graph.late(meta, watermark: watermark, reason: "its session closed: event time \(time) plus the gap is at or before the watermark")
                return
            }
            var list = sessions[key] ?? []
            let touching = list.indices.filter { time >= list[$0].start &- gap && time <= list[$0].end &+ gap }
            let slot: WindowSlot<Event>
            if let first = touching.first {
                slot = list[first]
                for index in touching.dropFirst() {
                    let other = list[index]
                    for (mine, theirs) in zip(slot.accumulators, other.accumulators) { mine.merge(theirs) }
                    slot.start = min(slot.start, other.start)
                    slot.end = max(slot.end, other.end)
                    changed[ObjectIdentifier(other)] = nil
                    removed.append(other)
                }
                for index in touching.dropFirst().reversed() { list.remove(at: index) }
                slot.start = min(slot.start, time)
                slot.end = max(slot.end, time)
            } else {
                slot = makeSlot(key: key, start: time, end: time)
                list.append(slot)
            }
            sessions[key] = list
            changed[ObjectIdentifier(slot)] = slot
            slot.add(event, meta)
        }
    }

    override func restore(_ db: Database, graph: PipelineGraph) throws {
        try loadSlots(db) { slot in sessions[slot.key, default: []].append(slot) }
        for key in sessions.keys { sessions[key]!.sort { $0.start < $1.start } }
        if let closing = graph.closingTime { closedThrough = closing &- lateness }
    }

    override func flush(_ db: Database, graph: PipelineGraph) throws {
        for slot in Self.ordered(removed) {
            if emit == .onUpdate, let emitted = slot.emittedStart { try send(slot, retractingStart: emitted) }
            try forget(slot, db)
        }
        removed.removeAll()
        let changedSlots = Self.ordered(changed.values)
        if emit == .onUpdate {
            for slot in changedSlots {
                if let emitted = slot.emittedStart, emitted != slot.start { try send(slot, retractingStart: emitted) }
                try send(slot)
                slot.emittedStart = slot.start
            }
        }
        if let closing = graph.closingTime.map({ $0 &- lateness }), closing > closedThrough {
            closedThrough = closing
            var closed: [WindowSlot<Event>] = []
            for (key, list) in sessions {
                let (ended, open) = (list.filter { $0.end &+ gap <= closing }, list.filter { $0.end &+ gap > closing })
                closed += ended
                sessions[key] = open.isEmpty ? nil : open
            }
            for slot in Self.ordered(closed) {
                if emit == .onClose { try send(slot) }
                try forget(slot, db)
                changed[ObjectIdentifier(slot)] = nil
            }
        }
        for slot in changed.values {
            try save(slot, db)
            slot.changed = false
        }
        changed.removeAll(keepingCapacity: true)
    }
}
