import Foundation
@testable import Runnel
import RunnelTesting
import Testing

/// One writer appending and rolling segments while other threads read the same partition in
/// every way the API offers. `.ci/run` also runs this suite under ThreadSanitizer, which fails on
/// any data race it sees (a read of a segment's index while an append grows it, say).
@Suite struct LogConcurrencyTests {
    /// Failures and progress shared by the threads.
    final class Shared: @unchecked Sendable {
        // @unchecked: every field is touched under `lock`.
        private let lock = NSLock()
        private var _done = false
        private var _failures: [String] = []
        var done: Bool { lock.withLock { _done } }
        var failures: [String] { lock.withLock { _failures } }
        func finish() { lock.withLock { _done = true } }
        func fail(_ message: String) { lock.withLock { _failures.append(message) } }
    }

    @Test func readersBesideAnAppendingAndRollingWriterSeeEveryRecordInOrder() throws {
        let temporary = try TemporaryHome(label: "log-concurrency")
        let log = try Log.open(temporary.folder.appendingPathComponent("log"))
        // Small segments and a dense index: many rolls and index entries while readers read.
        let partition = try log.createTopic("events", TopicConfiguration(segmentBytes: 16_384)).partitions[0]
        let batches = 1_500, perBatch = 4
        let total = batches * perBatch
        let shared = Shared()
        let group = DispatchGroup()

        // Followers: read everything in place, in order, until they have it all.
        for follower in 0..<2 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                var next: Int64 = 0
                while next < Int64(total) {
                    do {
                        next = try partition.forEachRecord(from: next, maxBytes: follower == 0 ? 2_048 : 1 << 20) { view in
                            let record = try view.ownedRecord()
                            if record.offset != next || index(of: record) != Int(next) {
                                shared.fail("follower \(follower): record \(record.offset) (\(index(of: record) ?? -1)) where \(next) was due")
                            }
                            next += 1
                            return true
                        }
                    } catch {
                        shared.fail("follower \(follower): \(error)")
                        return
                    }
                }
            }
        }
        // A reader of owned records, timestamps and metadata at random points.
        group.enter()
        Thread.detachNewThread {
            defer { group.leave() }
            var random = SeededGenerator(seed: 11)
            while !shared.done {
                do {
                    let end = partition.endOffset
                    guard end > 0 else { continue }
                    let from = Int64(random.below(Int(end)))
                    let records = try partition.read(from: from, maxBytes: 4_096)
                    if records.first?.offset != from { shared.fail("read from \(from) began at \(records.first?.offset ?? -1)") }
                    if let found = try partition.offset(forTimestamp: 1_000 + from), found != from {
                        shared.fail("offset for timestamp of \(from) is \(found)")
                    }
                    let last = try partition.lastBatch()
                    if let first = last.first, first.offset % Int64(perBatch) != 0 { shared.fail("last batch starts at \(first.offset)") }
                    let summaries = partition.segmentSummaries
                    if zip(summaries, summaries.dropFirst()).contains(where: { $0.nextOffset != $1.baseOffset }) {
                        shared.fail("segments do not follow each other: \(summaries.map { ($0.baseOffset, $0.nextOffset) })")
                    }
                    _ = partition.sizeInBytes
                    _ = partition.gaps
                } catch {
                    shared.fail("reader: \(error)")
                    return
                }
            }
        }
        for batch in 0..<batches {
            try partition.append((0..<perBatch).map { record(batch * perBatch + $0, timestamp: Int64(1_000 + batch * perBatch + $0), size: 24) })
            if batch % 10 == 0 { try log.flush(force: true) }
        }
        shared.finish()
        group.wait()
        #expect(shared.failures.isEmpty, "\(shared.failures.prefix(5))")
        #expect(partition.segmentSummaries.count > 10)
        #expect(partition.verify().isEmpty)
        try log.close()
    }
}
