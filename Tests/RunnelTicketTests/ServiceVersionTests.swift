@testable import Runnel
import Testing

@Suite("Service versions compare as people write them")
struct ServiceVersionTests {
    @Test("ordered pairs", arguments: [
        ("1.9.2", "1.10.0"), ("2.0", "2.0.1"), ("3.2.1-rc1", "3.2.1"), ("2.0.beta", "2.0.1"), ("3.2.1-beta2", "3.2.1-rc1"),
        ("3.2.0", "v3.2.1"), ("1.0.0", "1.0.0.1"), ("99999999999999999999.1", "100000000000000000000.0"), ("1.2", "1.10"),
        ("2026.01.05", "2026.1.6"),
    ])
    func ordered(_ pair: (String, String)) {
        #expect(ServiceVersion.compare(pair.0, pair.1) == -1)
        #expect(ServiceVersion.compare(pair.1, pair.0) == 1)
    }

    @Test("equal", arguments: [("2.0", "2.0.0"), ("v3.2.1", "3.2.1"), ("3.2.1+build.7", "3.2.1"), ("1.01", "1.1"), ("RC1", "rc1")])
    func equal(_ pair: (String, String)) {
        #expect(ServiceVersion.compare(pair.0, pair.1) == 0)
        #expect(ServiceVersion.compare(pair.1, pair.0) == 0)
    }

    @Test func aMissingVersionNeverMeetsAMinimumAndNoMinimumTakesAny() {
        #expect(!ServiceVersion.isAtLeast(nil, "1.0"))
        #expect(ServiceVersion.isAtLeast(nil, nil))
        #expect(ServiceVersion.isAtLeast("0.1", nil))
        #expect(ServiceVersion.isAtLeast("3.2.1", "3.2.1"))
        #expect(!ServiceVersion.isAtLeast("3.2.1-rc1", "3.2.1"))
    }
}
