import Foundation
@testable import Runnel
import RunnelTesting
import Testing

/// The cleaner's two promises beyond what compaction keeps (see `LogMaintenanceTests`): a pass
/// remembers at most a bounded number of keys, and appends are not held up while it works.
@Suite struct LogCleanerTests {
    /// Writes the same partition to `folder`: 40 keys updated in rounds, tombstones old and new,
    /// records without keys, across many small segments.
    private func fill(_ folder: URL, day: Int64) throws -> (Log, PartitionLog) {
        let log = try Log.open(folder)
        let partition = try log.createTopic("profiles", TopicConfiguration(segmentBytes: 2_048, compact: true, deleteRetentionMs: day)).partitions[0]
        var random = SeededGenerator(seed: 5)
        for step in 0..<600 {
            let key = random.below(40)
            if step % 97 == 0 {
                try partition.append([LogRecord(timestamp: (step < 300 ? 1 : 10) * day, key: Array("k\(key)".utf8), value: nil)])
            } else if step % 31 == 0 {
                try partition.append([record(step, timestamp: 9 * day, size: 20)])
            } else {
                try partition.append([record(step, key: "k\(key)", timestamp: 9 * day, size: 20)])
            }
        }
        return (log, partition)
    }

    @Test func passesOfAFewKeysEachKeepWhatOnePassOverAllKeysKeeps() throws {
        let temporary = try TemporaryHome(label: "cleaner-passes")
        let day: Int64 = 86_400_000
        let now = Date(millisecondsSince1970: 10 * day)
        let (wideLog, wide) = try fill(temporary.folder.appendingPathComponent("wide"), day: day)
        let (narrowLog, narrow) = try fill(temporary.folder.appendingPathComponent("narrow"), day: day)

        let one = try LogCleaner(keysPerPass: 1_000).clean(wide, now: now)
        let many = try LogCleaner(keysPerPass: 3).clean(narrow, now: now)
        #expect(one.passes == 1)
        #expect(many.passes > 10)
        #expect(many.recordsRemoved > 0)
        // A pass that does not reach the end cannot tell that a tombstone is its key's newest,
        // so it keeps the old tombstones such passes see; everything else is the same.
        let kept = try readAll(wide, from: wide.startOffset)
        let keptInPasses = try readAll(narrow, from: narrow.startOffset)
        #expect(kept.allSatisfy { record in keptInPasses.contains(record) })
        #expect(keptInPasses.filter { !kept.contains($0) }.allSatisfy { $0.value == nil && $0.timestamp < 10 * day })
        // In the closed segments, each kept record with a key is its key's newest (the active
        // segment is not compacted).
        let activeBase = try #require(narrow.segmentSummaries.last).baseOffset
        for records in [kept, keptInPasses] {
            var newest: [[UInt8]: Int64] = [:]
            for record in records where record.key != nil { newest[record.key!] = record.offset }
            for record in records where record.key != nil && record.offset < activeBase {
                #expect(newest[record.key!] == record.offset, "an older record of \(String(decoding: record.key!, as: UTF8.self)) was kept at \(record.offset)")
            }
        }
        #expect(narrow.verify().isEmpty)
        #expect(narrow.endOffset == wide.endOffset)
        try wideLog.close()
        try narrowLog.close()
    }

    @Test func appendsGoOnWhileAPassRewritesSegments() throws {
        let temporary = try TemporaryHome(label: "cleaner-appends")
        let (log, partition) = try fill(temporary.folder.appendingPathComponent("log"), day: 86_400_000)
        let appended = Atomic(0)
        var cleaner = LogCleaner()
        cleaner.afterSegment = { _ in
            // An append from another thread, while the cleaner is between two segments: it
            // would wait for the whole pass if the pass held the partition's lock.
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                _ = try? partition.append([record(10_000)])
                done.signal()
            }
            if done.wait(timeout: .now() + 5) == .success { appended.add(1) }
        }
        let endBefore = partition.endOffset
        let result = try cleaner.clean(partition, now: Date())
        #expect(result.segmentsRewritten > 1)
        #expect(appended.value == result.segmentsRewritten)
        #expect(partition.endOffset == endBefore + Int64(result.segmentsRewritten))
        #expect(partition.verify().isEmpty)
        try log.close()
    }
}

/// A counter the cleaner's callback bumps.
private final class Atomic: @unchecked Sendable {
    // @unchecked: `count` is only touched under `lock`.
    private let lock = NSLock()
    private var count: Int
    init(_ value: Int) { count = value }
    var value: Int { lock.withLock { count } }
    func add(_ amount: Int) { lock.withLock { count += amount } }
}
