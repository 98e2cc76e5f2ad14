import Foundation
@testable import Runnel
import Testing

/// `FieldReader` loads a struct's plain stored fields at their byte offset and applies the key
/// path for everything else; both must give what the key path gives.
@Suite struct FieldReaderTests {
    struct Inner: Sendable {
        var flag: Bool
        var amount: Double
    }

    struct Event: Sendable {
        var label: String
        var count: Int64
        var inner: Inner
        var maybe: Int32?
        var time: Date
        var small: Int
        var doubled: Int64 { count * 2 }
    }

    final class Boxed: Sendable {
        let count: Int64
        init(count: Int64) { self.count = count }
    }

    private let events = [
        Event(label: "first", count: 7, inner: Inner(flag: true, amount: 2.5), maybe: nil, time: Date(timeIntervalSince1970: 1_700_000_000.125), small: -9),
        Event(label: String(repeating: "long text ", count: 20), count: -3, inner: Inner(flag: false, amount: -0.0), maybe: -42,
              time: Date(timeIntervalSince1970: -86_400), small: Int.max),
    ]

    @Test func plainStoredFieldsAreReadInPlaceAndAgreeWithTheKeyPath() {
        #expect(FieldReader(\Event.count).readsInPlace)
        #expect(FieldReader(\Event.inner.amount).readsInPlace)
        #expect(FieldReader(\Event.maybe).readsInPlace)
        #expect(FieldReader(\Event.time).readsInPlace)
        #expect(FieldReader(widening: \Event.small).readsInPlace)
        for event in events {
            #expect(FieldReader(widening: \Event.small)(event) == Int64(event.small))
            #expect(FieldReader(\Event.count)(event) == event.count)
            #expect(FieldReader(\Event.inner.amount)(event) == event.inner.amount)
            #expect(FieldReader(\Event.inner.flag)(event) == event.inner.flag)
            #expect(FieldReader(\Event.maybe)(event) == event.maybe)
            #expect(FieldReader(\Event.time)(event) == event.time)
        }
    }

    @Test func computedPropertiesReferencesAndClassesGoThroughTheKeyPath() {
        #expect(!FieldReader(\Event.doubled).readsInPlace)
        #expect(!FieldReader(\Event.label).readsInPlace)
        #expect(!FieldReader(\Boxed.count).readsInPlace)
        for event in events {
            #expect(FieldReader(\Event.doubled)(event) == event.count * 2)
            #expect(FieldReader(\Event.label)(event) == event.label)
        }
        #expect(FieldReader(\Boxed.count)(Boxed(count: 11)) == 11)
    }
}

/// A window whose aggregate hands out one accumulator to several windows still counts, and
/// never chains one window's accumulators into another's.
@Suite struct SharedAccumulatorTests {
    final class Shared: Accumulator<Int> {
        var total = 0
        override func add(_ event: Int, _ meta: EventMeta) { total += event }
    }

    @Test func anAccumulatorInTwoWindowsIsWalkedThroughTheArray() {
        let shared = Shared()
        let first = WindowSlot<Int>(key: .single(1.databaseValue), start: 0, end: 10, accumulators: [shared])
        let own = Shared()
        let second = WindowSlot<Int>(key: .single(2.databaseValue), start: 0, end: 10, accumulators: [shared, own, shared])
        first.add(5, EventMeta(time: 0, input: 0, offset: 0, key: nil))
        second.add(1, EventMeta(time: 0, input: 0, offset: 1, key: nil))
        #expect(shared.total == 7)
        #expect(own.total == 1)
        #expect(shared.next == nil)
    }

    @Test func anAccumulatorTwiceInOneWindowIsCountedTwiceAndLeftUnchained() {
        let twice = Shared()
        let once = Shared()
        let slot = WindowSlot<Int>(key: .single(1.databaseValue), start: 0, end: 10, accumulators: [once, twice, twice])
        slot.add(3, EventMeta(time: 0, input: 0, offset: 0, key: nil))
        #expect(twice.total == 6)
        #expect(once.total == 3)
        #expect(!once.isChained && !twice.isChained && once.next == nil)
        // Both are free again: a window of their own chains them.
        let later = WindowSlot<Int>(key: .single(2.databaseValue), start: 0, end: 10, accumulators: [once, twice])
        later.add(1, EventMeta(time: 0, input: 0, offset: 1, key: nil))
        #expect(once.isChained && twice.isChained && once.next != nil)
        #expect(twice.total == 7 && once.total == 4)
    }
}
