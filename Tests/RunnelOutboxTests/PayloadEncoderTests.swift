import Foundation
@testable import Runnel
import RunnelTesting
import Testing

/// Outbox payloads are written by ``PayloadEncoder``: these tests hold it to the bytes (and the
/// errors) of `Outbox.makeEncoder()`, Foundation's `JSONEncoder` as the outbox configures it,
/// and check that it wrote them itself rather than handing the value to Foundation.
@Suite struct PayloadEncoderTests {
    /// The bytes of both encoders, and whether ``PayloadWriter`` gave up on the value.
    private func encodeBoth<Value: Encodable>(_ value: Value) throws -> (ours: [UInt8], foundation: [UInt8], gaveUp: Bool) {
        let writer = PayloadWriter()
        var gaveUp = false
        do {
            try writer.encodeTopLevel(value)
            gaveUp = writer.gaveUp
        } catch {
            gaveUp = true
            #expect(writer.gaveUp, "the writer threw \(error) without giving up")
        }
        return (Array(try PayloadEncoder.encode(value).utf8), Array(try Outbox.makeEncoder().encode(value)), gaveUp)
    }

    /// Expects the same bytes as Foundation, written without falling back.
    private func expectWrittenAlike<Value: Encodable>(_ value: Value, _ comment: Comment? = nil,
                                                      sourceLocation: SourceLocation = #_sourceLocation) throws {
        let both = try encodeBoth(value)
        #expect(String(decoding: both.ours, as: UTF8.self) == String(decoding: both.foundation, as: UTF8.self), comment,
                sourceLocation: sourceLocation)
        #expect(!both.gaveUp, "fell back to Foundation", sourceLocation: sourceLocation)
    }

    struct Everything: Codable {
        enum Mood: String, Codable { case calm, cross }
        enum Shape: Codable {
            case circle(radius: Double)
            case box(width: Int, height: Int, label: String?)
            case dot
        }
        struct Inner: Codable { var zeta: [Int]; var alpha: String?; var when: Date }

        var text = "Mozilla/5.0 (X11; Linux x86_64) \"quoted\" back\\slash tab\t nl\n ctl\u{1} del\u{7F} é 漢字 😀 \u{2028}"
        var int = Int.min
        var int8 = Int8.min
        var int16 = Int16.max
        var int32 = Int32.min
        var int64 = Int64.max
        var uint = UInt.max
        var uint8 = UInt8.max
        var uint16 = UInt16.max
        var uint32 = UInt32.max
        var uint64 = UInt64.max
        var zero = 0
        var double = 0.1
        var whole = 100.0
        var big = 1e20
        var tiny = 1e-7
        var negativeZero = -0.0
        var float: Float = 0.1
        var floatBig: Float = 3.4028235e38
        var yes = true
        var no = false
        var missing: String? = nil
        var present: Int? = 7
        var at = Date(millisecondsSince1970: 1_750_006_400_123)
        var fractionalAt = Date(timeIntervalSince1970: 1_750_006_400.123_456)
        var dates = [Date(millisecondsSince1970: -86_400_000), Date(millisecondsSince1970: 0)]
        var mood = Mood.cross
        var shapes: [Shape] = [.circle(radius: 2.5), .box(width: 3, height: 4, label: nil), .box(width: 1, height: 1, label: "a"), .dot]
        var inner = Inner(zeta: [3, 2, 1], alpha: "a", when: Date(millisecondsSince1970: 5))
        var inners: [Inner] = []
        var table = ["b": 2, "a": 1, "a10": 10, "a2": 20, "B": 3, "é": 4, "_": 5]
        var byNumber = [10: "ten", 2: "two", 1: "one"]
        var nested = [["x": [1.5, 2]], [:]]
        var empty: [String] = []
        var optionals: [Int?] = [1, nil, 3]
    }

    @Test func aPayloadOfEveryCommonKindIsWrittenAsFoundationWritesIt() throws {
        try expectWrittenAlike(Everything())
        var other = Everything()
        other.inners = [other.inner, Everything.Inner(zeta: [], alpha: nil, when: Date(millisecondsSince1970: -1))]
        other.missing = "now here"
        try expectWrittenAlike(other)
    }

    /// Appends on many threads at once: each encode has a writer of its own (the spare one is
    /// handed to one encode at a time), so no payload takes another's bytes.
    @Test func encodesOnManyThreadsAtOnceEachGetTheirOwnBytes() throws {
        let mismatches = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for index in 0..<300 {
                var value = Everything()
                value.text = "thread \(thread), payload \(index)"
                value.int = thread * 1_000 + index
                value.inners = Array(repeating: value.inner, count: index % 4)
                let ours = (try? PayloadEncoder.encode(value)) ?? ""
                let foundation = (try? Outbox.makeEncoder().encode(value)).map { String(decoding: $0, as: UTF8.self) }
                if ours != foundation { mismatches.withLock { $0 += 1 } }
            }
        }
        #expect(mismatches.withLock { $0 } == 0)
    }

    @Test func topLevelValuesOfEveryKindAreWrittenAsFoundationWritesThem() throws {
        try expectWrittenAlike("a \"string\" / with a slash")
        try expectWrittenAlike(42)
        try expectWrittenAlike(-3.25)
        try expectWrittenAlike(Float(1.5))
        try expectWrittenAlike(true)
        try expectWrittenAlike(Date(millisecondsSince1970: 1_700_000_000_000))
        try expectWrittenAlike(Optional<Int>.none)
        try expectWrittenAlike([Int]())
        try expectWrittenAlike([String: Int]())
        try expectWrittenAlike([[1], [2, 3]])
        try expectWrittenAlike(UInt8(200))
    }

    @Test(arguments: [1, 2, 3]) func randomDocumentsAreWrittenAsFoundationWritesThem(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        for _ in 0..<300 {
            let document = Document.random(depth: 0, using: &random)
            try expectWrittenAlike(document, "\(document)")
        }
    }

    @Test func everyFiniteDoubleAndFloatIsWrittenAsFoundationWritesIt() throws {
        var random = SeededGenerator(seed: 0xD0B1E)
        var doubles: [Double] = [0, 1, -1, 1e15, 1e16, 1e-5, 1e-4, 123e-5, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .ulpOfOne]
        var floats: [Float] = [0, 1, 1e7, 1e8, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        for _ in 0..<2_000 {
            let double = Double(bitPattern: random.next())
            if double.isFinite { doubles.append(double) }
            let float = Float(bitPattern: UInt32(truncatingIfNeeded: random.next()))
            if float.isFinite { floats.append(float) }
            doubles.append(Double(random.next() % 1_000_000) / 1000)
        }
        try expectWrittenAlike(doubles)
        try expectWrittenAlike(floats)
    }

    // MARK: - What the writer leaves to Foundation

    struct WithData: Codable { var blob = Data([1, 2, 255]); var url = URL(string: "https://example.com/a?b=1")!; var amount = Decimal(string: "12.50")! }

    /// Encodes the same key twice; Foundation keeps the last value.
    struct TwiceKeyed: Encodable {
        enum Keys: String, CodingKey { case a, b }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(1, forKey: .b)
            try container.encode(2, forKey: .a)
            try container.encode(3, forKey: .b)
        }
    }

    /// Writes to a nested container after its parent moved on.
    struct LateNested: Encodable {
        enum Keys: String, CodingKey { case outer, later, inner }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            var nested = container.nestedContainer(keyedBy: Keys.self, forKey: .outer)
            try nested.encode("first", forKey: .inner)
            try container.encode("x", forKey: .later)
            try nested.encode("second", forKey: .later)
        }
    }

    /// A class hierarchy encoding its super class with `superEncoder()`.
    class Base: Encodable { var base = 1 }
    final class Derived: Base {
        enum Keys: String, CodingKey { case own }
        override func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(2, forKey: .own)
            try super.encode(to: container.superEncoder())
        }
    }

    /// Asks for its keyed container twice (Foundation merges them).
    struct TwoContainers: Encodable {
        enum Keys: String, CodingKey { case a, b }
        func encode(to encoder: any Encoder) throws {
            var first = encoder.container(keyedBy: Keys.self)
            try first.encode(1, forKey: .b)
            var second = encoder.container(keyedBy: Keys.self)
            try second.encode(2, forKey: .a)
        }
    }

    /// Catches a member's error and goes on.
    struct CatchesItsOwnError: Encodable {
        enum Keys: String, CodingKey { case a, b, c }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(1, forKey: .a)
            do {
                try container.encode(Refuses(), forKey: .b)
            } catch {}
            try container.encode(3, forKey: .c)
        }
    }

    @Test func valuesTheWriterDoesNotCoverGetFoundationsBytes() throws {
        for value in [WithData() as any Encodable, TwiceKeyed(), LateNested(), Derived(), TwoContainers(), [Int128(5)], CatchesItsOwnError()] {
            let both = try encodeBoth(value)
            #expect(both.ours == both.foundation, "\(value)")
            #expect(both.gaveUp, "\(value) was written without Foundation")
        }
    }

    /// Opens a nested container and a sibling member interleaved, then nests in an array: legal,
    /// and written without falling back.
    struct Interleaved: Encodable {
        enum Keys: String, CodingKey { case z, a, m, list }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            var nested = container.nestedContainer(keyedBy: Keys.self, forKey: .z)
            try nested.encode(1, forKey: .m)
            try nested.encode(2, forKey: .a)
            try container.encode("after", forKey: .a)
            var list = container.nestedUnkeyedContainer(forKey: .list)
            var inList = list.nestedContainer(keyedBy: Keys.self)
            try inList.encode(true, forKey: .z)
            try inList.encodeNil(forKey: .a)
            var deeper = list.nestedUnkeyedContainer()
            try deeper.encode(3)
            try list.encode("last")
            try container.encode(0.5, forKey: .m)
        }
    }

    @Test func nestedContainersClosedByTheirParentsNextMemberAreWrittenAlike() throws {
        try expectWrittenAlike(Interleaved())
    }

    struct Unencodable: Encodable {
        var value = Double.nan
    }

    struct SaysNothing: Encodable {
        func encode(to encoder: any Encoder) throws {}
    }

    struct Refuses: Encodable {
        struct Refusal: Error, Equatable {}
        var before = 1
        func encode(to encoder: any Encoder) throws {
            var container = encoder.unkeyedContainer()
            try container.encode(before)
            throw Refusal()
        }
    }

    @Test func errorsAreFoundationsOrTheValuesOwn() throws {
        #expect(throws: EncodingError.self) { try PayloadEncoder.encode(Unencodable()) }
        #expect(throws: EncodingError.self) { try PayloadEncoder.encode(SaysNothing()) }
        #expect(throws: Refuses.Refusal()) { try PayloadEncoder.encode(Refuses()) }
        #expect(throws: Refuses.Refusal()) { try PayloadEncoder.encode([Refuses()]) }
    }

    /// Reads the coding path a value sees, as a user's `encode(to:)` may.
    struct PathReporter: Encodable {
        static let seen = Locked<[String]>([])
        func encode(to encoder: any Encoder) throws {
            let path = encoder.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            Self.seen.withLock { $0.append(path) }
            var container = encoder.singleValueContainer()
            try container.encode(path)
        }
    }

    struct Paths: Encodable {
        var top = PathReporter()
        var list = [PathReporter(), PathReporter()]
        var table = ["k": [PathReporter()]]
    }

    @Test func valuesSeeTheCodingPathFoundationGivesThem() throws {
        try expectWrittenAlike(Paths())
    }
}

/// A JSON document with members in any order, for comparing encoders on random input.
private indirect enum Document: Encodable, CustomStringConvertible {
    case integer(Int64)
    case number(Double)
    case text(String)
    case flag(Bool)
    case null
    case list([Document])
    case object([(key: String, value: Document, nested: Bool)])

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    var description: String { (try? PayloadEncoder.encode(self)) ?? "" }

    static func randomText(using random: inout SeededGenerator) -> String {
        let pieces = ["a", "b", "Z", "0", "9", "_", "-", " ", "\"", "\\", "/", "\n", "\u{0}", "\u{1F}", "\u{7F}", "é", "ß", "漢", "😀", "\u{2028}", "\u{8}", "\u{C}", "\r", "\t", "aa", "a1", "a10"]
        return (0..<Int(random.next() % 6)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
    }

    static func random(depth: Int, using random: inout SeededGenerator) -> Document {
        switch random.next() % (depth > 3 ? 5 : 7) {
        case 0: return .integer(Int64(bitPattern: random.next()) >> (random.next() % 64))
        case 1: return .number(Double(Int64(bitPattern: random.next()) >> 20) / 1024)
        case 2: return .text(randomText(using: &random))
        case 3: return .flag(random.next() % 2 == 0)
        case 4: return .null
        case 5: return .list((0..<Int(random.next() % 4)).map { _ in Document.random(depth: depth + 1, using: &random) })
        default:
            var keys = Set<String>()
            var members: [(key: String, value: Document, nested: Bool)] = []
            for _ in 0..<Int(random.next() % 6) {
                let key = randomText(using: &random)
                guard keys.insert(key).inserted else { continue }
                members.append((key, Document.random(depth: depth + 1, using: &random), random.next() % 2 == 0))
            }
            return .object(members)
        }
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .object(let members):
            var container = encoder.container(keyedBy: Key.self)
            try Self.encode(members, into: &container)
        default:
            var container = encoder.singleValueContainer()
            switch self {
            case .integer(let value): try container.encode(value)
            case .number(let value): try container.encode(value)
            case .text(let value): try container.encode(value)
            case .flag(let value): try container.encode(value)
            case .null: try container.encodeNil()
            case .list(let values): try container.encode(values)
            case .object: break
            }
        }
    }

    /// Writes members, some as nested containers rather than values of their own.
    static func encode(_ members: [(key: String, value: Document, nested: Bool)], into container: inout KeyedEncodingContainer<Key>) throws {
        for member in members {
            let key = Key(stringValue: member.key)
            switch (member.value, member.nested) {
            case (.object(let inner), true):
                var nested = container.nestedContainer(keyedBy: Key.self, forKey: key)
                try encode(inner, into: &nested)
            case (.list(let values), true):
                var nested = container.nestedUnkeyedContainer(forKey: key)
                for value in values { try nested.encode(value) }
            case (.null, _):
                try container.encodeNil(forKey: key)
            default:
                try container.encode(member.value, forKey: key)
            }
        }
    }
}
