import Foundation
import Testing
@testable import Runnel

// MARK: - Fixtures

private struct ActivityRecorded: Codable, Equatable {
    var activityId: Int64
    var memberId: Int64
    var kind: String
    var page: String
    var dwellMs: Int64
    var userAgent: String
    var isBot: Bool
    var occurredAt: Date
}

/// The common pipeline case: a consumer that reads 3 of the 8 fields.
private struct ActivitySummary: Codable, Equatable {
    var memberId: Int64
    var dwellMs: Int64
    var occurredAt: Date
}

private struct Optionals: Codable, Equatable {
    var count: Int?
    var name: String?
    var at: Date?
    var flag: Bool?
    var ratio: Double?
    var nested: Customer?
    var list: [Int]?
}

private struct Customer: Codable, Equatable {
    var id: Int64
    var name: String
}

private struct Line: Codable, Equatable {
    var sku: String
    var quantity: Int32
}

private struct Order: Codable, Equatable {
    var id: Int64
    var customer: Customer
    var lines: [Line]
    var tags: [String]
    var matrix: [[Int]]
    var attributes: [String: Int]
    var byId: [Int: String]
    var notes: [String?]
}

private enum Channel: String, Codable { case web, ios, android }
private enum Priority: Int, Codable { case low = 1, high = 9 }

private enum Shape: Codable, Equatable {
    case circle(radius: Double)
    case rect(width: Double, height: Double)
    case point
    case labeled(String, Int)
}

private struct Drawing: Codable, Equatable {
    var channel: Channel
    var priority: Priority
    var shapes: [Shape]
}

private struct Widths: Codable, Equatable {
    var int: Int
    var int8: Int8
    var int16: Int16
    var int32: Int32
    var int64: Int64
    var uint: UInt
    var uint8: UInt8
    var uint16: UInt16
    var uint32: UInt32
    var uint64: UInt64

    static let min = Widths(int: .min, int8: .min, int16: .min, int32: .min, int64: .min, uint: .min, uint8: .min, uint16: .min, uint32: .min, uint64: .min)
    static let max = Widths(int: .max, int8: .max, int16: .max, int32: .max, int64: .max, uint: .max, uint8: .max, uint16: .max, uint32: .max, uint64: .max)
}

private struct Foundationish: Codable, Equatable {
    var data: Data
    var url: URL
    var amount: Decimal
    var at: Date
}

private struct Box<Value: Codable & Equatable>: Codable, Equatable {
    var value: Value
}

private class Animal: Decodable {
    let legs: Int

    private enum CodingKeys: String, CodingKey { case legs }

    required init(from decoder: any Decoder) throws {
        legs = try decoder.container(keyedBy: CodingKeys.self).decode(Int.self, forKey: .legs)
    }
}

private final class Dog: Animal {
    let name: String

    private enum CodingKeys: String, CodingKey { case name }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        try super.init(from: container.superDecoder())
    }
}

/// Reads its superclass's fields through a container of the super decoder, kept past the call
/// that made it.
private final class Cat: Animal {
    let lives: Int

    private enum CodingKeys: String, CodingKey { case lives, base }
    private enum BaseKeys: String, CodingKey { case legs }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let base = try container.superDecoder(forKey: .base).container(keyedBy: BaseKeys.self)
        let nested = try container.nestedContainer(keyedBy: BaseKeys.self, forKey: .base)
        lives = try container.decode(Int.self, forKey: .lives)
        #expect(try base.decode(Int.self, forKey: .legs) == nested.decode(Int.self, forKey: .legs))
        #expect(base.codingPath.map(\.stringValue) == ["base"])
        try super.init(from: container.superDecoder(forKey: .base))
    }
}

private let encoder = Outbox.makeEncoder()

private func jsonDecoder() -> JSONDecoder {
    Outbox.makeDecoder()
}

private func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
    try EventDecoder().decode(type, from: Data(json.utf8))
}

/// The `DecodingError` `body` throws, or nil when it throws something else or nothing.
private func decodingError(_ body: () throws -> Void) -> DecodingError? {
    do {
        try body()
        return nil
    } catch let error as DecodingError {
        return error
    } catch {
        return nil
    }
}

/// The case and coding path of an error, to compare EventDecoder's errors with JSONDecoder's.
private func shape(_ error: DecodingError?) -> String? {
    guard let error else { return nil }
    let path: (DecodingError.Context) -> String = { $0.codingPath.map(\.stringValue).joined(separator: ".") }
    switch error {
    case .keyNotFound(let key, let context): return "keyNotFound(\(key.stringValue)) at \(path(context))"
    case .typeMismatch(_, let context): return "typeMismatch at \(path(context))"
    case .valueNotFound(_, let context): return "valueNotFound at \(path(context))"
    case .dataCorrupted(let context): return "dataCorrupted at \(path(context))"
    @unknown default: return "unknown"
    }
}

private func debugDescription(_ error: DecodingError?) -> String {
    switch error {
    case .keyNotFound(_, let context), .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
        return context.debugDescription
    default:
        return ""
    }
}

private func sampleActivities(count: Int, seed: UInt64) -> [ActivityRecorded] {
    var random = SeededGenerator(seed: seed)
    let kinds = ["view", "click", "scroll", "share"]
    let pages = ["/feed", "/jobs/123", "/in/alice", "/search?q=swift&page=2"]
    let agents = ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)", "curl/8.4", "okhttp/4.12.0", "Bot \"quoted\" \\ slash/é/😀"]
    return (0..<count).map { index in
        ActivityRecorded(
            activityId: Int64(index) * 7_919 + Int64(random.below(1_000)),
            memberId: Int64(random.below(5_000_000)) - 1_000,
            kind: random.pick(kinds),
            page: random.pick(pages),
            dwellMs: Int64(random.below(120_000)),
            userAgent: random.pick(agents),
            isBot: random.chance(0.1),
            occurredAt: Date(millisecondsSince1970: 1_700_000_000_000 + Int64(random.below(1_000_000_000)))
        )
    }
}

// MARK: - Round trips

@Suite struct EventDecoderRoundTripTests {
    @Test func eventsDecodeAsJSONDecoderDecodesThem() throws {
        for activity in sampleActivities(count: 500, seed: 7) {
            let data = try encoder.encode(activity)
            let decoded = try EventDecoder().decode(ActivityRecorded.self, from: data)
            #expect(decoded == activity)
            #expect(decoded == (try jsonDecoder().decode(ActivityRecorded.self, from: data)))
            let summary = try EventDecoder().decode(ActivitySummary.self, from: data)
            #expect(summary == ActivitySummary(memberId: activity.memberId, dwellMs: activity.dwellMs, occurredAt: activity.occurredAt))
        }
    }

    @Test func rawBufferAndDataEntryPointsAgree() throws {
        let activity = sampleActivities(count: 1, seed: 3)[0]
        let bytes = Array(try encoder.encode(activity))
        let fromBuffer = try bytes.withUnsafeBytes { try EventDecoder().decode(ActivityRecorded.self, from: $0) }
        #expect(fromBuffer == activity)
    }

    /// One scratch tape through small, growing, oversized and broken documents: every answer
    /// and every error is the one a call without it gives.
    @Test func aReusedScratchTapeDecodesAsAFreshTapeDoes() throws {
        let scratch = EventDecoder.Scratch()
        func both<T: Decodable & Equatable>(_ type: T.Type, _ json: String) throws {
            let bytes = Array(json.utf8)
            let fresh = Result { try bytes.withUnsafeBytes { try EventDecoder().decode(type, from: $0) } }
            let reused = Result { try bytes.withUnsafeBytes { try EventDecoder().decode(type, from: $0, reusing: scratch) } }
            switch (fresh, reused) {
            case (.success(let a), .success(let b)): #expect(a == b)
            case (.failure(let a), .failure(let b)): #expect(debugDescription(a as? DecodingError) == debugDescription(b as? DecodingError))
            default: Issue.record("\(json.prefix(60)): \(fresh) without the scratch tape, \(reused) with it")
            }
        }
        for activity in sampleActivities(count: 50, seed: 11) {
            try both(ActivityRecorded.self, String(decoding: try encoder.encode(activity), as: UTF8.self))
        }
        // Past the first tape, then past the largest tape kept (one node per element).
        for count in [300, 5_000, EventDecoder.Scratch.largestKept + 10, 20] {
            try both([Int].self, "[" + (0..<count).map(String.init).joined(separator: ",") + "]")
        }
        // Broken documents, one needing the retry with a node per byte.
        try both([Int].self, "[" + String(repeating: "1,", count: 4_000) + "]")
        try both([[Int]].self, String(repeating: "[", count: 600) + String(repeating: "]", count: 599))
        try both(ActivitySummary.self, #"{"memberId":1,"dwellMs":2}"#)
        try both(ActivitySummary.self, #"{"memberId":1,"dwellMs":2,"occurredAt":3}"#)
    }

    @Test func aKeptDecodersRootContainersReadEachNewDocument() throws {
        // The scratch's decoder hands out the same root container for a key type document after
        // document: each must read its own document, whatever came between.
        let scratch = EventDecoder.Scratch()
        func reused<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
            try Array(json.utf8).withUnsafeBytes { try EventDecoder().decode(type, from: $0, reusing: scratch) }
        }
        for round in 0..<3 {
            #expect(try reused(ActivitySummary.self, #"{"memberId":\#(round),"dwellMs":\#(round * 10),"occurredAt":5}"#)
                == ActivitySummary(memberId: Int64(round), dwellMs: Int64(round * 10), occurredAt: Date(millisecondsSince1970: 5)))
            // Another key type, a root array, a failure half-way, and subclasses whose super
            // decoders share the kept decoder's document.
            #expect(try reused(Box<Int>.self, #"{"value":\#(round)}"#) == Box(value: round))
            #expect(try reused([Int].self, "[\(round),\(round)]") == [round, round])
            #expect(throws: DecodingError.self) { try reused(ActivitySummary.self, #"{"memberId":1,"occurredAt":5}"#) }
            let dog = try reused(Dog.self, #"{"name":"d\#(round)","super":{"legs":\#(round)}}"#)
            #expect(dog.name == "d\(round)" && dog.legs == round)
            let cat = try reused(Cat.self, #"{"lives":\#(round),"base":{"legs":4}}"#)
            #expect(cat.lives == round && cat.legs == 4)
            // The same key type nested in itself: only the root's container is kept.
            #expect(try reused(Box<Box<Int>>.self, #"{"value":{"value":\#(round + 100)}}"#) == Box(value: Box(value: round + 100)))
            #expect(try reused(Box<Int>.self, #"{"value":-\#(round)}"#) == Box(value: -round))
        }
    }

    @Test func optionalsPresentAbsentAndNull() throws {
        let full = Optionals(count: 3, name: "n", at: Date(millisecondsSince1970: 5), flag: false, ratio: 0.5,
                             nested: Customer(id: 1, name: "c"), list: [1, 2])
        #expect(try EventDecoder().decode(Optionals.self, from: encoder.encode(full)) == full)
        let empty = Optionals()
        #expect(try EventDecoder().decode(Optionals.self, from: encoder.encode(empty)) == empty)
        let nulls = #"{"count":null,"name":null,"at":null,"flag":null,"ratio":null,"nested":null,"list":null}"#
        #expect(try decode(Optionals.self, nulls) == empty)
        #expect(try decode([Int?].self, "[1,null, 3]") == [1, nil, 3])
        #expect(try decode(Int?.self, "null") == nil)
    }

    @Test func nestedStructsArraysAndDictionaries() throws {
        let order = Order(
            id: 42,
            customer: Customer(id: 7, name: "Ada"),
            lines: [Line(sku: "A-1", quantity: 2), Line(sku: "B-2", quantity: -1)],
            tags: ["x", "", "y"],
            matrix: [[1, 2], [], [3]],
            attributes: ["b": 2, "a": 1],
            byId: [3: "three", -1: "minus one"],
            notes: ["n", nil]
        )
        let data = try encoder.encode(order)
        #expect(try EventDecoder().decode(Order.self, from: data) == order)
        #expect(try EventDecoder().decode([Order].self, from: encoder.encode([order, order])) == [order, order])
    }

    @Test func enumsWithRawAndAssociatedValues() throws {
        let drawing = Drawing(channel: .ios, priority: .high,
                              shapes: [.circle(radius: 1.5), .rect(width: 2, height: 3), .point, .labeled("a", -4)])
        let data = try encoder.encode(drawing)
        #expect(try EventDecoder().decode(Drawing.self, from: data) == drawing)
        let unknownCase = decodingError { _ = try decode(Drawing.self, #"{"channel":"fax","priority":1,"shapes":[]}"#) }
        #expect(shape(unknownCase) == "dataCorrupted at channel")
        #expect(shape(unknownCase) == shape(decodingError {
            _ = try jsonDecoder().decode(Drawing.self, from: Data(#"{"channel":"fax","priority":1,"shapes":[]}"#.utf8))
        }))
    }

    @Test func foundationTypesDecodeLikeJSONDecoder() throws {
        let value = Foundationish(data: Data([0, 1, 2, 254, 255]), url: try #require(URL(string: "https://example.com/a?b=c")),
                                  amount: try #require(Decimal(string: "12345.6789")), at: Date(millisecondsSince1970: -1))
        let data = try encoder.encode(value)
        #expect(try EventDecoder().decode(Foundationish.self, from: data) == value)
        let json = #"{"data":"aGVsbG8=","url":"https://x.y/z","amount":0.1,"at":1700000000123.5}"#
        #expect(try decode(Foundationish.self, json) == (try jsonDecoder().decode(Foundationish.self, from: Data(json.utf8))))
        let badBase64 = decodingError { _ = try decode(Foundationish.self, #"{"data":"aGVsbG8","url":"u","amount":1,"at":0}"#) }
        #expect(shape(badBase64) == "dataCorrupted at data")
    }

    @Test func topLevelScalarsAndArrays() throws {
        #expect(try decode(Int.self, " 42 ") == 42)
        #expect(try decode(String.self, #""a\nb""#) == "a\nb")
        #expect(try decode(Bool.self, "true") == true)
        #expect(try decode(Date.self, "1500") == Date(timeIntervalSince1970: 1.5))
        #expect(try decode([Double].self, "[1, 2.5, -3e2]") == [1, 2.5, -300])
        #expect(try decode([[String]].self, #"[["a"],[]]"#) == [["a"], []])
    }

    @Test func superDecoderReadsTheSuperKey() throws {
        let dog = try decode(Dog.self, #"{"name":"Rex","super":{"legs":4}}"#)
        #expect(dog.name == "Rex")
        #expect(dog.legs == 4)
        let cat = try decode(Cat.self, #"{"lives":9,"base":{"legs":4}}"#)
        #expect(cat.lives == 9)
        #expect(cat.legs == 4)
        let missing = decodingError { _ = try decode(Dog.self, #"{"name":"Rex"}"#) }
        #expect(shape(missing) == "keyNotFound(super) at ")
    }

    @Test func concurrentCallsAreIndependent() async throws {
        let activities = sampleActivities(count: 200, seed: 11)
        let documents = try activities.map { try encoder.encode($0) }
        let decoder = EventDecoder()
        let results = try await withThrowingTaskGroup(of: [ActivityRecorded].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try documents.map { try decoder.decode(ActivityRecorded.self, from: $0) }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 4)
        for result in results {
            #expect(result == activities)
        }
    }
}

// MARK: - Numbers

@Suite struct EventDecoderNumberTests {
    @Test func everyIntegerWidthAtItsLimits() throws {
        for widths in [Widths.min, Widths.max] {
            #expect(try EventDecoder().decode(Widths.self, from: encoder.encode(widths)) == widths)
        }
    }

    @Test func integerOverflowIsDataCorruptedAtTheKey() throws {
        let cases: [(String, String)] = [
            ("int8", "128"), ("int8", "-129"), ("int16", "32768"), ("int16", "-32769"),
            ("int32", "2147483648"), ("int32", "-2147483649"),
            ("int64", "9223372036854775808"), ("int64", "-9223372036854775809"),
            ("int", "9223372036854775808"), ("uint", "18446744073709551616"), ("uint", "-1"),
            ("uint8", "256"), ("uint8", "-1"), ("uint16", "65536"), ("uint32", "4294967296"),
            ("uint64", "18446744073709551616"), ("uint64", "100000000000000000000000"), ("int64", "1e19"),
        ]
        let base = try #require(String(data: encoder.encode(Widths.max), encoding: .utf8))
        for (key, number) in cases {
            // Replace one field's value; the others stay valid.
            let pattern = try Regex(#""\#(key)":-?[0-9]+"#)
            let json = base.replacing(pattern, with: "\"\(key)\":\(number)")
            #expect(json != base)
            let error = decodingError { _ = try decode(Widths.self, json) }
            #expect(shape(error) == "dataCorrupted at \(key)", "\(key): \(number)")
            #expect(debugDescription(error).contains("does not fit in"), "\(key): \(number)")
        }
    }

    @Test func integersWithFractionOrExponentMustBeWhole() throws {
        #expect(try decode([Int].self, "[1.0, 1e2, 100e-2, -0, -0.0, 2.50e1, 0e99999]") == [1, 100, 1, 0, 0, 25, 0])
        #expect(try decode(Int64.self, "9223372036854775807.000") == .max)
        #expect(try decode(Int64.self, "-9.223372036854775808e18") == .min)
        for number in ["1.5", "1e-1", "1e400", "0.999", "-1.25e1"] {
            let error = decodingError { _ = try decode(Int.self, number) }
            #expect(shape(error) == "dataCorrupted at ", "\(number)")
        }
        // Exact where JSONDecoder rounds through a Double (a documented difference).
        #expect(decodingError { _ = try decode(Int.self, "1.00000000000000000001") } != nil)
        #expect(try jsonDecoder().decode(Int.self, from: Data("1.00000000000000000001".utf8)) == 1)
    }

    @Test func doublesMatchJSONDecoderBitForBit() throws {
        let texts = ["0", "-0", "-0.0", "1", "0.1", "0.3", "1e5", "1E+5", "1e-5", "-2.5e-3", "123456789012345678",
                     "3.141592653589793", "1.7976931348623157e308", "2.2250738585072014e-308", "5e-324", "4.9e-324",
                     "1e22", "1e23", "9007199254740993", "0.1e-10", "12345678901234567890e-30", "7.0e-10", "1234.5678"]
        for text in texts {
            let expected = try jsonDecoder().decode(Double.self, from: Data(text.utf8))
            let actual = try decode(Double.self, text)
            #expect(actual.bitPattern == expected.bitPattern, "\(text): \(actual) vs \(expected)")
        }
        #expect(try decode(Double.self, "-0").sign == .minus)
        for value in [Double.pi, -Double.pi, .greatestFiniteMagnitude, .leastNonzeroMagnitude, .leastNormalMagnitude, 1.0 / 3, 1e-300] {
            #expect(try EventDecoder().decode(Box<Double>.self, from: encoder.encode(Box(value: value))).value == value)
        }
        for value in [Float.pi, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 0.1, -1.5e-20] {
            #expect(try EventDecoder().decode(Box<Float>.self, from: encoder.encode(Box(value: value))).value == value)
        }
    }

    @Test func outOfRangeFloatingPointIsAnError() throws {
        for text in ["1e309", "-1e400", "1e-400", "2e-324"] {
            #expect(shape(decodingError { _ = try decode(Double.self, text) }) == "dataCorrupted at ", "\(text)")
            #expect(decodingError { _ = try jsonDecoder().decode(Double.self, from: Data(text.utf8)) } != nil)
        }
        for text in ["3.5e38", "1e-46"] {
            #expect(shape(decodingError { _ = try decode(Float.self, text) }) == "dataCorrupted at ", "\(text)")
        }
        #expect(try decode(Double.self, "0e5") == 0)
    }
}

// MARK: - Strings

@Suite struct EventDecoderStringTests {
    @Test func everyEscapeDecodes() throws {
        let json = #""q\" b\\ s\/ \b\f\n\r\t A\u0041 é\u00e9 €\u20AC 😀\ud83d\ude00 nul\u0000""#
        let expected = "q\" b\\ s/ \u{8}\u{C}\n\r\t AA éé €€ 😀😀 nul\u{0}"
        #expect(try decode(String.self, json) == expected)
        #expect(try decode(String.self, json) == (try jsonDecoder().decode(String.self, from: Data(json.utf8))))
    }

    @Test func stringsRoundTripThroughJSONEncoder() throws {
        var text = (0..<0x80).map { String(UnicodeScalar(UInt8($0))) }.joined()
        text += "é€😀 日本語 \u{301}e\u{301} \u{10FFFF} \u{7F}"
        let value = Box(value: [text, "", "plain", String(repeating: "long ", count: 200)])
        #expect(try EventDecoder().decode(Box<[String]>.self, from: encoder.encode(value)) == value)
    }

    @Test func invalidEscapesAndBytesAreRejected() throws {
        let bad: [[UInt8]] = [
            Array(#""\x""#.utf8), Array(#""\u12""#.utf8), Array(#""\u12g4""#.utf8), Array(#""\ud800""#.utf8),
            Array(#""\udc00""#.utf8), Array(#""\ud800\u0041""#.utf8), Array(#""\ud800x""#.utf8), Array(#""\""#.utf8),
            [0x22, 0x0A, 0x22], [0x22, 0x01, 0x22], [0x22, 0xFF, 0x22], [0x22, 0xC0, 0x80, 0x22],
            [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22], [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],
        ]
        for bytes in bad {
            let error = decodingError { _ = try EventDecoder().decode(String.self, from: Data(bytes)) }
            #expect(shape(error) == "dataCorrupted at ", "\(bytes)")
            #expect(decodingError { _ = try jsonDecoder().decode(String.self, from: Data(bytes)) } != nil, "\(bytes)")
        }
    }

    @Test func keysMatchAsStrings() throws {
        // An escaped key, and a key in another Unicode normalization, match like JSONDecoder's.
        #expect(try decode(Customer.self, #"{"\u0069d":1,"n\u0061me":"x"}"#) == Customer(id: 1, name: "x"))
        let decomposed = #"{"e\u0301":1}"#
        #expect(try decode([String: Int].self, decomposed) == (try jsonDecoder().decode([String: Int].self, from: Data(decomposed.utf8))))
        struct Accented: Decodable, Equatable { var é: Int }
        #expect(try decode(Accented.self, decomposed) == Accented(é: 1))
        // The first of duplicate keys wins, as in JSONDecoder.
        #expect(try decode(Customer.self, #"{"id":1,"id":2,"name":"a","name":"b"}"#) == Customer(id: 1, name: "a"))
        #expect(try decode([String: Int].self, #"{"a":1,"a":2}"#) == ["a": 1])
    }
}

// MARK: - Structure

@Suite struct EventDecoderStructureTests {
    @Test func unknownKeysAreSkippedAtAnyDepth() throws {
        let json = #"""
        { "zz": {"a": [1, 2.5e3, {"b": null, "c": [[], {}]}], "d": "}]\"{["}, "id" : 5,
          "aa": [true, false, null, -0.5, "x"], "name": "n", "mid": {"id": 9, "name": "inner"} }
        """#
        #expect(try decode(Customer.self, json) == Customer(id: 5, name: "n"))
    }

    @Test func truncationAtEveryByteThrows() throws {
        let order = Order(id: 1, customer: Customer(id: 2, name: "é\"x"), lines: [Line(sku: "s", quantity: 3)], tags: ["t"],
                          matrix: [[1]], attributes: ["k": -1], byId: [1: "a"], notes: [nil])
        let bytes = Array(try encoder.encode(order))
        for length in 0..<bytes.count {
            let prefix = Data(bytes[0..<length])
            let error = decodingError { _ = try EventDecoder().decode(Order.self, from: prefix) }
            #expect(error != nil, "prefix of \(length) bytes")
        }
    }

    @Test func malformedDocumentsAreRejected() throws {
        let documents = [
            "", " ", "hello", "tru", "nul", "'a'", "{a:1}", #"{"id":1,}"#, "[1,]", "[,]", "{,}", "01", ".5", "1.", "-",
            "1e", "+1", "0x10", "NaN", #"{"id" 1}"#, #"{"id":1 "name":"x"}"#, "[1 2]", #"{"id":1}}"#, "[1]]", "{}x",
            "1 2", #"{"id":1} {"#, "\u{0C}1", "[\"a\"", #"{"id":tru}"#, "{\"id\":1,\"name\":\"\u{1}\"}",
        ]
        for document in documents {
            let error = decodingError { _ = try decode([String: Int].self, document) }
            #expect(shape(error) == "dataCorrupted at ", "\(document)")
        }
    }

    @Test func nestingIsLimitedTo512Levels() throws {
        let arrays = { (depth: Int) in String(repeating: "[", count: depth) + String(repeating: "]", count: depth) }
        struct Anything: Decodable {}
        // An object holding 511 nested arrays is 512 levels deep: accepted, as by JSONDecoder.
        _ = try decode(Anything.self, #"{"a":"# + arrays(511) + "}")
        _ = try jsonDecoder().decode(Anything.self, from: Data((#"{"a":"# + arrays(511) + "}").utf8))
        let tooDeep = decodingError { _ = try decode(Anything.self, #"{"a":"# + arrays(512) + "}") }
        #expect(shape(tooDeep) == "dataCorrupted at ")
        #expect(debugDescription(tooDeep).contains("more than 512 nested"))
        #expect(decodingError { _ = try jsonDecoder().decode(Anything.self, from: Data((#"{"a":"# + arrays(512) + "}").utf8)) } != nil)
        // Deep enough to overflow the stack of a scanner without a limit.
        #expect(decodingError { _ = try decode(Anything.self, String(repeating: "[", count: 100_000)) } != nil)
    }

    @Test func theDensestDocumentsFitTheTape() throws {
        // One value per two bytes is the most a document can hold; the tape is sized for it.
        let ones = "[" + Array(repeating: "1", count: 10_001).joined(separator: ",") + "]"
        #expect(try decode([Int].self, ones).count == 10_001)
        #expect(try decode([[Int]].self, "[[],[],[]]") == [[], [], []])
        #expect(try decode([String: Int].self, #"{"":0}"#) == ["": 0])
        #expect(try decode(Int.self, "7") == 7)
        #expect(try decode([Int].self, "[0]") == [0])
        // Documents cut short can hold more values than valid ones; their error is still found.
        for document in ["[[[", #"{"":[[["#, "[1,[1,[", String(repeating: "[", count: 400)] {
            let error = decodingError { _ = try decode([[[Int]]].self, document) }
            #expect(shape(error) == "dataCorrupted at ", "\(document)")
            #expect(debugDescription(error).contains("found the end of the document"), "\(document)")
        }
    }

    @Test func byteOrderMarkAndWhitespaceAreAccepted() throws {
        let json = "\u{FEFF} \t\n\r{ \"id\" :\n1 ,\r\n\"name\"\t:\"x\" } \n"
        #expect(try decode(Customer.self, json) == Customer(id: 1, name: "x"))
    }
}

// MARK: - Errors

@Suite struct EventDecoderErrorTests {
    private static let order = #"{"customer":{"id":1,"name":"a"},"id":1,"lines":[{"quantity":1,"sku":"a"},{"quantity":2,"sku":"b"}],"#
        + #""matrix":[[1]],"attributes":{},"byId":{},"notes":[],"tags":[]}"#

    /// Both decoders fail on `json` in the same way (case and coding path).
    private func expectSameError(_ json: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let ours = decodingError { _ = try decode(Order.self, json) }
        let theirs = decodingError { _ = try jsonDecoder().decode(Order.self, from: Data(json.utf8)) }
        #expect(shape(ours) == expected, sourceLocation: sourceLocation)
        #expect(shape(theirs) == expected, sourceLocation: sourceLocation)
    }

    @Test func theValidOrderDecodes() throws {
        #expect(try decode(Order.self, Self.order).lines.count == 2)
    }

    @Test func keyNotFoundCarriesTheContainersPath() {
        expectSameError(Self.order.replacingOccurrences(of: #""name":"a""#, with: #""nom":"a""#), "keyNotFound(name) at customer")
        expectSameError(Self.order.replacingOccurrences(of: #""sku":"b""#, with: #""skew":"b""#), "keyNotFound(sku) at lines.Index 1")
        expectSameError(Self.order.replacingOccurrences(of: #""id":1,"lines""#, with: #""lines""#), "keyNotFound(id) at ")
    }

    @Test func typeMismatchAndNullCarryThePathToTheValue() {
        expectSameError(Self.order.replacingOccurrences(of: #""quantity":2"#, with: #""quantity":"2""#), "typeMismatch at lines.Index 1.quantity")
        expectSameError(Self.order.replacingOccurrences(of: #""quantity":2"#, with: #""quantity":null"#), "valueNotFound at lines.Index 1.quantity")
        expectSameError(Self.order.replacingOccurrences(of: #""matrix":[[1]]"#, with: #""matrix":[["1"]]"#), "typeMismatch at matrix.Index 0.Index 0")
        expectSameError(Self.order.replacingOccurrences(of: #""customer":{"id":1,"name":"a"}"#, with: #""customer":[]"#), "typeMismatch at customer")
        expectSameError(Self.order.replacingOccurrences(of: #""lines":[{"quantity":1,"sku":"a"},{"quantity":2,"sku":"b"}]"#, with: #""lines":{}"#), "typeMismatch at lines")
    }

    @Test func messagesNameTheByteOffset() throws {
        let json = #"{"id":1,"name":17}"#
        let error = decodingError { _ = try decode(Customer.self, json) }
        #expect(debugDescription(error) == "expected a string at byte 15, found the number 17")
        let syntax = decodingError { _ = try decode(Customer.self, #"{"id":1,"name":"x"]"#) }
        #expect(debugDescription(syntax).contains("at byte 18"))
        #expect(debugDescription(syntax).contains("expected ',' or '}'"))
        let missing = decodingError { _ = try decode(Customer.self, #"{"id":1}"#) }
        #expect(debugDescription(missing) == #"the object at byte 0 has no key "name""#)
    }

    @Test func unkeyedContainerAtEndThrowsValueNotFound() {
        struct Pair: Decodable {
            init(from decoder: any Decoder) throws {
                var container = try decoder.unkeyedContainer()
                _ = try container.decode(Int.self)
                _ = try container.decode(Int.self)
            }
        }
        #expect(shape(decodingError { _ = try decode(Pair.self, "[1]") }) == "valueNotFound at Index 1")
        #expect(shape(decodingError { _ = try decode(Pair.self, "[1]") }) == shape(decodingError {
            _ = try jsonDecoder().decode(Pair.self, from: Data("[1]".utf8))
        }))
    }
}

// MARK: - Fuzzing

private struct FuzzSession: Codable, Equatable {
    var id: Int32
    var steps: [Int16]
}

private struct FuzzEvent: Codable, Equatable {
    var activityId: Int64
    var memberId: Int64
    var kind: String
    var page: String
    var dwellMs: Int64
    var userAgent: String
    var isBot: Bool
    var occurredAt: Date
    var score: Double
    var tags: [String]
    var referrer: String?
    var session: FuzzSession?
}

/// What Runnel's encoder might write for a newer version of the event: fields this reader skips.
private struct FuzzEventWire: Codable {
    var event: FuzzEvent
    var extra: [String: [String?]]
    var flags: [Bool]

    private enum CodingKeys: String, CodingKey { case extra, flags }

    init(event: FuzzEvent, extra: [String: [String?]], flags: [Bool]) {
        self.event = event
        self.extra = extra
        self.flags = flags
    }

    init(from decoder: any Decoder) throws {
        event = try FuzzEvent(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        extra = try container.decode([String: [String?]].self, forKey: .extra)
        flags = try container.decode([Bool].self, forKey: .flags)
    }

    func encode(to encoder: any Encoder) throws {
        try event.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(extra, forKey: .extra)
        try container.encode(flags, forKey: .flags)
    }
}

@Suite struct EventDecoderFuzzTests {
    /// Bytes a mutation writes: structure, digits, letters of literals, escapes, controls, and
    /// bytes that break UTF-8.
    private static let interestingBytes: [UInt8] = Array("{}[]:,\"\\/0123456789-+.eEtrufalsn \t\nxu".utf8) + [0x00, 0x01, 0x0C, 0x7F, 0x80, 0xBF, 0xC0, 0xE2, 0xED, 0xF0, 0xFF]

    private static func mutate(_ bytes: inout [UInt8], _ random: inout SeededGenerator) {
        guard !bytes.isEmpty else { return }
        let position = random.below(bytes.count)
        switch random.below(8) {
        case 0:
            // Digits and letters for others of their kind: mostly still JSON, with other values.
            let digits = bytes.indices.filter { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[$0]) }
            guard !digits.isEmpty else { return }
            bytes[random.pick(digits)] = UInt8(ascii: "0") + UInt8(random.below(10))
        case 1:
            let letters = bytes.indices.filter { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[$0]) }
            guard !letters.isEmpty else { return }
            bytes[random.pick(letters)] = UInt8(ascii: "a") + UInt8(random.below(26))
        case 2:
            bytes[position] = random.pick(interestingBytes)
        case 3:
            bytes[position] = UInt8(random.below(256))
        case 4:
            bytes.insert(random.pick(interestingBytes), at: random.below(bytes.count + 1))
        case 5:
            bytes.remove(at: position)
        case 6:
            let length = min(1 + random.below(8), bytes.count - position)
            bytes.insert(contentsOf: bytes[position..<position + length], at: random.below(bytes.count + 1))
        default:
            bytes.removeLast(random.below(min(bytes.count, 6) + 1))
        }
    }

    /// Whether `bytes` is JSON by RFC 8259: JSONSerialization checks every string and number, but
    /// like JSONDecoder it accepts a comma before a closing bracket, so that is checked here.
    private static func isStrictJSON(_ bytes: [UInt8]) -> Bool {
        guard (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil else { return false }
        var inString = false
        var escaped = false
        var lastSignificant: UInt8 = 0
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): continue
            case UInt8(ascii: "]") where lastSignificant == UInt8(ascii: ","), UInt8(ascii: "}") where lastSignificant == UInt8(ascii: ","):
                return false
            case UInt8(ascii: "\""): inString = true
            default: break
            }
            lastSignificant = byte
        }
        return true
    }

    /// Whether `bytes` holds a zero written with an exponent (`0e5`, `0.0E-2`), which JSONDecoder
    /// rejects in some spellings: its zero check reads the last bytes of a short number backwards.
    private static func hasZeroWithExponent(_ bytes: [UInt8]) -> Bool {
        let numberBytes = Set("0123456789+-.eE".utf8)
        var index = 0
        while index < bytes.count {
            guard numberBytes.contains(bytes[index]) else {
                index += 1
                continue
            }
            var end = index
            while end < bytes.count, numberBytes.contains(bytes[end]) { end += 1 }
            let token = bytes[index..<end]
            if let mark = token.firstIndex(where: { $0 | 0x20 == UInt8(ascii: "e") }),
               token[..<mark].contains(UInt8(ascii: "0")),
               token[..<mark].allSatisfy({ $0 == UInt8(ascii: "0") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }) {
                return true
            }
            index = end
        }
        return false
    }

    @Test func randomMutationsNeverCrashAndAgreeWithJSONDecoder() throws {
        let event = FuzzEvent(activityId: 123_456, memberId: -42, kind: "click", page: "/jobs/9?x=1", dwellMs: 1_500,
                              userAgent: "Mozilla/5.0 \"é\" \\ 😀", isBot: false, occurredAt: Date(millisecondsSince1970: 1_712_345_678_901),
                              score: 12.5, tags: ["a", "b\nc"], referrer: nil, session: FuzzSession(id: 7, steps: [1, -2, 300]))
        let wire = FuzzEventWire(event: event, extra: ["k": ["v", nil, "\u{1}"], "m": []], flags: [true, false])
        let original = Array(try encoder.encode(wire))
        #expect(try EventDecoder().decode(FuzzEvent.self, from: Data(original)) == event)

        var random = SeededGenerator(seed: 20_240_611)
        var counts = (agreedValue: 0, bothThrew: 0, strictOnNonJSON: 0, zeroWithExponent: 0)
        for round in 0..<10_000 {
            var bytes = original
            for _ in 0..<(random.chance(0.7) ? 1 : 2 + random.below(2)) {
                Self.mutate(&bytes, &random)
            }
            let data = Data(bytes)
            let theirs = try? jsonDecoder().decode(FuzzEvent.self, from: data)
            let ours: FuzzEvent?
            do {
                ours = try EventDecoder().decode(FuzzEvent.self, from: data)
            } catch is DecodingError {
                ours = nil
            } catch {
                Issue.record("round \(round): \(error) is not a DecodingError")
                ours = nil
            }
            switch (theirs, ours) {
            case let (theirs?, ours?):
                #expect(theirs == ours, "round \(round): \(String(decoding: bytes, as: UTF8.self))")
                counts.agreedValue += 1
            case (nil, nil):
                counts.bothThrew += 1
            case (_?, nil):
                // JSONDecoder is lenient with input that is not JSON; EventDecoder is not.
                #expect(!Self.isStrictJSON(bytes), "round \(round): rejected valid JSON \(String(decoding: bytes, as: UTF8.self))")
                counts.strictOnNonJSON += 1
            case (nil, _?):
                #expect(Self.hasZeroWithExponent(bytes), "round \(round): accepted what JSONDecoder rejects: \(String(decoding: bytes, as: UTF8.self))")
                counts.zeroWithExponent += 1
            }
        }
        // The mutations must exercise both outcomes for the comparison to mean something.
        #expect(counts.agreedValue > 1_500)
        #expect(counts.bothThrew > 3_000)
    }
}
