import Foundation
import GRDB
import Runnel

/// What one round of `relay` put in each outbox.
struct RelayRound: Sendable {
    /// Rows appended to each outbox.
    var rows: Int
    /// Bytes of their JSON payloads.
    var payloadBytes: Int
}

extension RelayScenario {
    /// Rows appended per write transaction when filling an outbox.
    private static let rowsPerFillTransaction = 10_000

    /// Appends events `first..<first + count` to the app outbox with ``Outbox/append(_:in:)``, in
    /// large transactions; the same numbers give the same rows.
    static func fill(_ store: Store, from first: Int, count: Int) throws {
        var start = first
        while start < first + count {
            let end = min(start + rowsPerFillTransaction, first + count)
            try store.app.write { db in
                for sequence in start..<end {
                    try store.outbox.append(BenchEvent(Int64(sequence)).outboxEvent, in: db)
                }
            }
            start = end
        }
    }

    /// The rows waiting in the app outbox and the bytes of their payloads.
    static func pending(_ store: Store) throws -> RelayRound {
        let row = try store.app.read { db in
            try Row.fetchOne(db, sql: "SELECT count(*), total(length(CAST(payload AS BLOB))) FROM runnel_outbox")
        }
        guard let row else { throw BenchmarkError("relay: cannot count the outbox rows") }
        return RelayRound(rows: row[0], payloadBytes: Int(row[1] as Double))
    }

    /// The least a relay must do, without Runnel: read the pending rows in id order, `batchSize`
    /// at a time, as the relay reads them; append their payload bytes to a plain file and fsync
    /// it; then delete the rows in a write transaction.
    /// - Returns: The rows moved and the payload bytes written.
    static func relayWithoutRunnel(_ store: Store, into file: PlainFile, batchSize: Int) throws -> RelayRound {
        var moved = RelayRound(rows: 0, payloadBytes: 0)
        var lastID: Int64 = 0
        while true {
            let (payloads, count, last) = try store.app.read { db -> ([UInt8], Int, Int64) in
                var payloads: [UInt8] = []
                var count = 0
                var last: Int64 = 0
                let rows = try Row.fetchCursor(db, sql: "SELECT * FROM runnel_outbox WHERE id > ? ORDER BY id LIMIT ?",
                                               arguments: [lastID, batchSize])
                while let row = try rows.next() {
                    try row.withUnsafeData(named: "payload") { data in
                        if let data { payloads.append(contentsOf: data) }
                    }
                    last = row["id"]
                    count += 1
                }
                return (payloads, count, last)
            }
            guard count > 0 else { return moved }
            try file.append(payloads)
            try file.sync()
            try store.app.write { db in
                try db.execute(sql: "DELETE FROM runnel_outbox WHERE id <= ?", arguments: [last])
            }
            lastID = last
            moved.rows += count
            moved.payloadBytes += payloads.count
        }
    }
}
