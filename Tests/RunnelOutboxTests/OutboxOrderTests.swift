import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

@Suite struct OutboxOrderTests {
    struct Sequenced: Codable, Sendable {
        var sequence: Int
        var writer: Int
    }

    /// Four writers, each on its own connection as separate processes would be, commit
    /// transactions that take a number from a shared counter and append an event carrying it.
    /// The counter gives the commit order; the outbox ids must follow it exactly.
    @Test func idsIncreaseInCommitOrderAcrossConcurrentWriters() throws {
        let temporary = try TemporaryHome()
        let store = try temporary.openStore()
        try store.app.write { db in
            try db.execute(sql: "CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0)")
        }
        let writers = 4, perWriter = 60
        let connections = try (0..<writers).map { _ in try temporary.openConnection(.app) }
        let outbox = store.outbox
        let failures = LockedErrors()
        DispatchQueue.concurrentPerform(iterations: writers) { writer in
            do {
                for _ in 0..<perWriter {
                    try connections[writer].writeWithoutTransaction { db in
                        try db.inTransaction(.immediate) {
                            let sequence = try Int.fetchOne(db, sql: "UPDATE counter SET n = n + 1 RETURNING n")!
                            try outbox.append(OutboxEvent(topic: "ordered", key: "w\(writer)", type: "Sequenced",
                                                          payload: Sequenced(sequence: sequence, writer: writer), eventTime: Date()), in: db)
                            return .commit
                        }
                    }
                }
            } catch {
                failures.append(error)
            }
        }
        #expect(failures.errors.isEmpty)
        let rows = try store.app.read { try OutboxRow.fetchPending($0) }
        let sequences = try rows.map { try JSONDecoder().decode(Sequenced.self, from: Data($0.payload.utf8)).sequence }
        #expect(rows.count == writers * perWriter)
        #expect(sequences == Array(1...(writers * perWriter)))
        #expect(zip(rows, rows.dropFirst()).allSatisfy { $0.id < $1.id })
        // The writers really interleaved, or the test proves nothing about concurrency.
        let writerOrder = try rows.map { try JSONDecoder().decode(Sequenced.self, from: Data($0.payload.utf8)).writer }
        #expect(zip(writerOrder, writerOrder.dropFirst()).contains { $0 != $1 })
    }
}

final class LockedErrors: @unchecked Sendable {
    // @unchecked: every access to `storage` goes through `lock`.
    private let lock = NSLock()
    private var storage: [Error] = []

    func append(_ error: Error) {
        lock.withLock { storage.append(error) }
    }

    var errors: [Error] { lock.withLock { storage } }
}
