import Foundation
import GRDB

/// An operator's rows in `runnel_pipeline_state`: one per key (a window, a dedupe id), written
/// in the batch's transaction.
struct OperatorState {
    let pipeline: String
    let id: Int

    func save(_ db: Database, key: [UInt8], state: [UInt8]) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO runnel_pipeline_state (pipeline, operator, key, state) VALUES (?, ?, ?, ?)
            ON CONFLICT (pipeline, operator, key) DO UPDATE SET state = excluded.state
            """)
        try FastStatement.execute(statement, db) { handle in
            FastStatement.bind(handle, 1, pipeline)
            FastStatement.bind(handle, 2, Int64(id))
            FastStatement.bind(handle, 3, key)
            FastStatement.bind(handle, 4, state)
        }
    }

    func delete(_ db: Database, key: [UInt8]) throws {
        let statement = try db.cachedStatement(sql: "DELETE FROM runnel_pipeline_state WHERE pipeline = ? AND operator = ? AND key = ?")
        try FastStatement.execute(statement, db) { handle in
            FastStatement.bind(handle, 1, pipeline)
            FastStatement.bind(handle, 2, Int64(id))
            FastStatement.bind(handle, 3, key)
        }
    }

    /// Calls `body` with every saved key and state of the operator.
    func load(_ db: Database, _ body: (Data, Data) throws -> Void) throws {
        let rows = try Row.fetchCursor(db, sql: "SELECT key, state FROM runnel_pipeline_state WHERE pipeline = ? AND operator = ?",
                                       arguments: [pipeline, id])
        while let row = try rows.next() {
            do {
                try body(row[0], row[1])
            } catch is StateReader.Damaged {
                throw RunnelError(.pipeline, "the saved state of operator \(id) of pipeline \(pipeline) does not parse",
                                  hint: "Run `runnel run \(pipeline) --rebuild` to rebuild it from the log")
            }
        }
    }
}
