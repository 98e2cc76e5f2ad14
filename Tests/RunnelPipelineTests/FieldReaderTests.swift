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
        var doubled: Int64 { count * 2 }
    }

    final class Boxed: Sendable {
        let count: Int64
        init(count: Int64) { self.count = count }
    }

    private let events = [
        Event(label: "first", count: 7, inner: Inner(flag: true, amount: 2.5), maybe: nil, time: Date(timeIntervalSince1970: 1_700_000_000.125)),
        Event(label: String(repeating: "long text ", count: 20), count: -3, inner: Inner(flag: false, amount: -0.0), maybe: -42,
              time: Date(timeIntervalSince1970: -86_400)),
    ]

    @Test func plainStoredFieldsAreReadInPlaceAndAgreeWithTheKeyPath() {
        for event in events {
            #expect(FieldReader(\Event.count)(event) == event.count)
            #expect(FieldReader(\Event.inner.amount)(event) == event.inner.amount)
            #expect(FieldReader(\Event.inner.flag)(event) == event.inner.flag)
            #expect(FieldReader(\Event.maybe)(event) == event.maybe)
            #expect(FieldReader(\Event.time)(event) == event.time)
        }
    }

    @Test func computedPropertiesReferencesAndClassesGoThroughTheKeyPath() {
        for event in events {
            #expect(FieldReader(\Event.doubled)(event) == event.count * 2)
            #expect(FieldReader(\Event.label)(event) == event.label)
        }
        #expect(FieldReader(\Boxed.count)(Boxed(count: 11)) == 11)
    }
}
