import GRDB

/// Tumbling and hopping windows, and the running aggregate (one endless window per key).
///
/// A window's state is saved in shards: the slots of one window start whose keys hash (stably)
/// to the same of ``shardCount`` shards share one row of `runnel_pipeline_state`. A batch touches
/// a few window starts but thousands of keys, so it rewrites a few hundred rows instead of one
/// per key, and closing a window deletes its shards. A running aggregate has no window to close
/// and may hold millions of keys, so it keeps one row per key.
final class FixedWindowOperator<Event>: WindowedAggregation<Event> {
    enum Assignment {
        case tumbling(size: Int64)
        case hopping(size: Int64, advance: Int64)
        /// No window: a running aggregate per key that never closes (a KTable).
        case unbounded
    }

    static var shardCount: Int { 256 }

    let assignment: Assignment
    private let size: Int64
    // The properties each event reaches skip Swift's dynamic exclusivity checks: an operator
    // runs on its runner's thread alone, and the checks (with those of the graph's inputs and
    // the tape decoder) were about 2 % of a windowed pipeline's CPU.
    @exclusivity(unchecked) private var slots: [WindowID: WindowSlot<Event>] = [:]
    /// Slots of integer keys. The values are `WindowSlot<Event>`, held as `AnyObject` so the
    /// table is not generic: unspecialised generic code looks up type metadata on every
    /// access, which cost more than the lookup itself on the per-event path.
    @exclusivity(unchecked) private var integerSlots = IntegerSlotTable()
    /// Slots changed since the last flush, in the order they changed first: `WindowSlot<Event>`s
    /// held as `AnyObject`, as in ``integerSlots``, since a slot is added here once per batch.
    @exclusivity(unchecked) private var changed: [AnyObject] = []
    private var shards: [ShardID: WindowShard] = [:]
    private var changedShards: [WindowShard] = []
    /// The shards of each open window start.
    private var shardsByStart: [Int64: [Int]] = [:]

    init(_ assignment: Assignment, keyColumns: [ColumnDefinition], aggregates: [any AggregateFunction<Event>], emit: EmitPolicy, lateness: TimeSpan) {
        self.assignment = assignment
        switch assignment {
        case .tumbling(let size), .hopping(let size, _): self.size = size
        case .unbounded: self.size = Int64.max
        }
        super.init(keyColumns: keyColumns, aggregates: aggregates, emit: emit, lateness: lateness, hasWindowColumns: !Self.isUnbounded(assignment))
    }

    override var windowShape: String {
        switch assignment {
        case .tumbling(let size): "tumbling window \(size) ms"
        case .hopping(let size, let advance): "hopping window \(size) ms every \(advance) ms"
        case .unbounded: "running aggregate"
        }
    }

    private static func isUnbounded(_ assignment: Assignment) -> Bool {
        if case .unbounded = assignment { return true }
        return false
    }

    private var isUnbounded: Bool { Self.isUnbounded(assignment) }

    override func input(_ graph: PipelineGraph) -> Emit<Event> {
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

    private func setSlot(_ slot: WindowSlot<Event>?, _ key: GroupKey, start: Int64) {
        if case .single(let value) = key, case .int64(let number) = value.storage {
            integerSlots.set(slot, key: number, start: start)
        } else {
            slots[WindowID(key: key, start: start)] = slot
        }
    }

    private func update(key: GroupKey, start: Int64, end: Int64, _ event: Event, _ meta: EventMeta) {
        if case .single(let value) = key, case .int64(let number) = value.storage {
            // Most events land in a slot of an integer key that exists already: it is used
            // without retaining it (the table keeps it alive, and nothing here removes it).
            if let existing = integerSlots.unretainedValue(key: number, start: start) {
                existing._withUnsafeGuaranteedRef { add(event, meta, to: unsafeDowncast($0, to: WindowSlot<Event>.self)) }
                return
            }
        } else if let existing = slots[WindowID(key: key, start: start)] {
            add(event, meta, to: existing)
            return
        }
        let slot = makeSlot(key: key, start: start, end: end)
        setSlot(slot, key, start: start)
        var newShard: WindowShard?
        if !isUnbounded {
            newShard = shard(for: slot)
            newShard?.slots.append(slot)
        }
        noteChanged(slot, newShard: newShard)
        slot.add(event, meta)
    }

    /// Adds an event to a slot that exists already.
    private func add(_ event: Event, _ meta: EventMeta, to slot: WindowSlot<Event>) {
        if !slot.changed { noteChanged(slot, newShard: nil) }
        slot.add(event, meta)
    }

    /// Lists a slot, and its shard, as changed since the last flush.
    private func noteChanged(_ slot: WindowSlot<Event>, newShard: WindowShard?) {
        changed.append(slot)
        if !isUnbounded {
            let shard = newShard ?? shard(for: slot)
            if !shard.changed {
                shard.changed = true
                changedShards.append(shard)
            }
        }
    }

    private func shardID(_ key: GroupKey, start: Int64) -> ShardID {
        ShardID(start: start, shard: Int(key.stableHash % UInt64(Self.shardCount)))
    }

    private func shard(for slot: WindowSlot<Event>) -> WindowShard {
        let id = shardID(slot.key, start: slot.start)
        if let shard = shards[id] { return shard }
        let shard = WindowShard()
        shards[id] = shard
        shardsByStart[id.start, default: []].append(id.shard)
        return shard
    }

    private func shardKey(_ id: ShardID) -> [UInt8] {
        var writer = StateWriter()
        writer.int64(id.start)
        writer.int64(Int64(id.shard))
        return writer.bytes
    }

    // MARK: - State

    override func restore(_ db: Database, graph: PipelineGraph) throws {
        if isUnbounded {
            try loadSlots(db) { slot in setSlot(slot, slot.key, start: slot.start) }
            return
        }
        try state.load(db) { key, saved in
            var keyReader = StateReader(key)
            let start = try keyReader.int64()
            var reader = StateReader(saved)
            for _ in 0..<(try reader.int64()) {
                let slot = try decodeSlot(key: GroupKey(try reader.values()), start: start, from: &reader)
                setSlot(slot, slot.key, start: start)
                let shard = shard(for: slot)
                shard.slots.append(slot)
                shard.saved = true
            }
        }
        if let closing = graph.closingTime { closedThrough = closing &- lateness }
    }

    override func flush(_ db: Database, graph: PipelineGraph) throws {
        if emit == .onUpdate {
            try forEachChangedInKeyOrder { try send($0) }
        }
        for object in changed {
            let slot = unsafeDowncast(object, to: WindowSlot<Event>.self)
            if isUnbounded { try save(slot, db) }
            slot.changed = false
        }
        changed.removeAll(keepingCapacity: true)
        guard !isUnbounded else { return }
        if let closing = graph.closingTime.map({ $0 &- lateness }), closing > closedThrough {
            closedThrough = closing
            try close(through: closing, db)
        }
        for shard in changedShards where shard.changed {
            shard.changed = false
            guard let first = shard.slots.first.map({ unsafeDowncast($0, to: WindowSlot<Event>.self) }) else { continue }
            var writer = StateWriter()
            writer.int64(Int64(shard.slots.count))
            for object in shard.slots {
                let slot = unsafeDowncast(object, to: WindowSlot<Event>.self)
                writer.values(slot.key.values)
                try encode(slot, into: &writer)
            }
            try state.save(db, key: shardKey(shardID(first.key, start: first.start)), state: writer.bytes)
            shard.saved = true
        }
        changedShards.removeAll(keepingCapacity: true)
    }

    /// The changed slots by window start, then key: a read view keyed by key and window start
    /// (or the reverse) then takes a batch's rows in the order of its index, a page at a time,
    /// rather than a random page per row once the view outgrows SQLite's page cache. Integer
    /// keys, the common case, sort as plain integers (``ChangedWindow``), without touching the
    /// slots or their generic type.
    private func forEachChangedInKeyOrder(_ body: (WindowSlot<Event>) throws -> Void) throws {
        var integerKeyed: [ChangedWindow] = []
        integerKeyed.reserveCapacity(changed.count)
        for index in changed.indices {
            let slot = unsafeDowncast(changed[index], to: WindowSlot<Event>.self)
            guard case .single(let value) = slot.key, case .int64(let number) = value.storage else {
                integerKeyed = []
                break
            }
            integerKeyed.append(ChangedWindow(start: slot.start, key: number, index: index))
        }
        if integerKeyed.count == changed.count {
            integerKeyed.sort()
            for window in integerKeyed { try body(unsafeDowncast(changed[window.index], to: WindowSlot<Event>.self)) }
            return
        }
        let slots = changed.map { unsafeDowncast($0, to: WindowSlot<Event>.self) }
        let order = slots.indices.sorted { a, b in
            if slots[a].start != slots[b].start { return slots[a].start < slots[b].start }
            return slots[a].key.precedes(slots[b].key)
        }
        for index in order { try body(slots[index]) }
    }

    /// Emits (on close) and forgets every window ending at or before `closing`, oldest first.
    private func close(through closing: Int64, _ db: Database) throws {
        let starts = shardsByStart.keys.filter { $0 &+ size <= closing }.sorted()
        for start in starts {
            for number in shardsByStart[start]!.sorted() {
                let id = ShardID(start: start, shard: number)
                guard let shard = shards.removeValue(forKey: id) else { continue }
                for object in shard.slots {
                    let slot = unsafeDowncast(object, to: WindowSlot<Event>.self)
                    if emit == .onClose { try send(slot) }
                    setSlot(nil, slot.key, start: slot.start)
                }
                shard.changed = false
                if shard.saved { try state.delete(db, key: shardKey(id)) }
            }
            shardsByStart[start] = nil
        }
    }
}

/// The slots of one window start in one shard, in the order they were made: `WindowSlot`s
/// held as `AnyObject`. At file scope, so that it is not generic: unspecialised generic code
/// looks up a generic type's metadata at run time on every use.
final class WindowShard {
    var slots: [AnyObject] = []
    var changed = false
    var saved = false
}

/// A changed window with an integer key, to sort a batch's changed windows by start, then key
/// (file scope, so it is not generic). `index` is its place in the operator's changed list.
struct ChangedWindow: Comparable {
    let start: Int64
    let key: Int64
    let index: Int

    static func < (lhs: ChangedWindow, rhs: ChangedWindow) -> Bool {
        lhs.start != rhs.start ? lhs.start < rhs.start : lhs.key < rhs.key
    }
}

/// One shard of one window start's saved state (file scope, so it is not generic).
struct ShardID: Hashable {
    let start: Int64
    let shard: Int
}

/// Floor division, so windows before 1970 line up too.
@inline(__always)
func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
    let quotient = value / divisor
    return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient
}
