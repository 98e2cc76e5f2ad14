import Foundation
import GRDB

/// Which incarnation of a database an outbox row comes from: a random id created with the
/// database file, kept in `runnel_database_identity`.
///
/// Outbox ids are unique only within one file. Deleting `derived.sqlite` (it is rebuildable)
/// starts its ids at 1 again, so the relay tells records of two incarnations apart by this id,
/// which it writes on every record (header `outbox-database`; `docs/relay.md`).
package struct DatabaseIdentity: Sendable, Hashable {
    /// The random id, a lowercase UUID.
    package var id: String
    /// Whether records carrying no `outbox-database` header are this database's own.
    ///
    /// True for a database that had already handed out outbox ids when it was upgraded to
    /// identities: its records written before the upgrade carry no identity, and the relay must
    /// still recognise them after a run interrupted across the upgrade. A database created with
    /// its identity never claims them: they belong to an earlier incarnation.
    package var claimsUnmarkedRecords: Bool

    /// Whether a record with this `outbox-database` header (nil when it has none) came from this database.
    package func owns(recordIdentity: [UInt8]?) -> Bool {
        guard let recordIdentity else { return claimsUnmarkedRecords }
        return recordIdentity.elementsEqual(id.utf8)
    }

    /// Reads the identity of the database `db` belongs to.
    package static func read(_ db: Database) throws -> DatabaseIdentity {
        guard let row = try Row.fetchOne(db, sql: "SELECT id, claims_unmarked_records FROM runnel_database_identity") else {
            throw RunnelError(.database, "\(db.description) has no row in runnel_database_identity",
                              hint: "The table is created with the database and never emptied; restore the row or move the file aside if it is derived.sqlite")
        }
        return DatabaseIdentity(id: row["id"], claimsUnmarkedRecords: row["claims_unmarked_records"])
    }

    /// Gives the database of `db` a new identity that claims no records of the log: for a file
    /// restored from a backup, whose outbox hands out ids the log already holds.
    /// - Returns: The new identity.
    @discardableResult
    package static func renew(_ db: Database) throws -> DatabaseIdentity {
        let renewed = DatabaseIdentity(id: UUID().uuidString.lowercased(), claimsUnmarkedRecords: false)
        try db.execute(sql: "UPDATE runnel_database_identity SET id = ?, claims_unmarked_records = 0, created_at = ?",
                       arguments: [renewed.id, Date().millisecondsSince1970])
        return renewed
    }

    /// The migration `runnel-v6-database-identity`: creates the table with one random id.
    ///
    /// `sqlite_sequence` holds a row for `runnel_outbox` once the outbox has handed out an id,
    /// so a database that has none is new (or never had an event) and nothing in the log is its.
    static func create(_ db: Database) throws {
        let handedOutIDs = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'runnel_outbox'") != nil
        try db.execute(sql: """
            CREATE TABLE runnel_database_identity (
                id TEXT NOT NULL,
                claims_unmarked_records INTEGER NOT NULL,
                created_at INTEGER NOT NULL
            );
            INSERT INTO runnel_database_identity (id, claims_unmarked_records, created_at) VALUES (?, ?, ?);
            """, arguments: [UUID().uuidString.lowercased(), handedOutIDs, Date().millisecondsSince1970])
    }
}
