@testable import Runnel
import Testing

/// The integer-key window table agrees with a dictionary through inserts, replacements and
/// removals that leave runs of colliding entries behind, across growth.
@Suite struct IntegerSlotTableTests {
    final class Box {
        let number: Int
        init(_ number: Int) { self.number = number }
    }

    @Test(arguments: [1, 7, 20_261_207])
    func agreesWithADictionaryThroughRandomChanges(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var table = IntegerSlotTable()
        var expected: [[Int64]: Int] = [:]
        for step in 0..<40_000 {
            // Few distinct keys and starts, so runs collide and removals shift entries back.
            let key = Int64(random.next() % 900), start = Int64(random.next() % 4) * 300_000
            if random.next() % 3 == 0 {
                table.set(nil, key: key, start: start)
                expected[[key, start]] = nil
            } else {
                table.set(Box(step), key: key, start: start)
                expected[[key, start]] = step
            }
            if step % 97 == 0 {
                for probe in 0..<50 {
                    let (k, s) = (Int64(probe * 17 % 900), Int64(probe % 4) * 300_000)
                    #expect((table.value(key: k, start: s) as? Box)?.number == expected[[k, s]])
                }
            }
        }
        #expect(table.count == expected.count)
        for (id, number) in expected {
            #expect((table.value(key: id[0], start: id[1]) as? Box)?.number == number)
        }
        for (id, _) in expected { table.set(nil, key: id[0], start: id[1]) }
        #expect(table.count == 0)
        #expect(table.value(key: 1, start: 0) == nil)
    }
}
