import Foundation
import GRDB

/// The outcome of the last `runnel log verify` and `runnel kv verify` of each target, kept in
/// `app.sqlite` (`runnel_verifications`) so `runnel status --check` can report damage a verify
/// found without reading every byte again.
package enum Verifications {
    static func create(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE runnel_verifications (
                target TEXT PRIMARY KEY,
                checked_at INTEGER NOT NULL,
                damaged INTEGER NOT NULL,
                first_damage TEXT
            ) WITHOUT ROWID
            """)
    }

    /// The target name of the log, and of a KV store.
    package static let logTarget = "log"
    package static func kvTarget(_ store: String) -> String { "kv/\(store)" }

    /// Records a verification, replacing the target's previous one.
    /// - Parameters:
    ///   - target: ``logTarget`` or ``kvTarget(_:)``.
    ///   - damaged: Damaged places found (batches, gaps, blocks); 0 when sound.
    ///   - firstDamage: The first, as reported.
    package static func record(_ target: String, damaged: Int, firstDamage: String?, at now: Date = Date(), in store: Store) throws {
        try RunnelError.naming(store.app.path, "recording the verification of \(target)") {
            try store.app.write { db in
                try db.execute(sql: """
                    INSERT INTO runnel_verifications (target, checked_at, damaged, first_damage) VALUES (?, ?, ?, ?)
                    ON CONFLICT (target) DO UPDATE SET checked_at = excluded.checked_at, damaged = excluded.damaged, first_damage = excluded.first_damage
                    """, arguments: [target, now.millisecondsSince1970, damaged, firstDamage])
            }
        }
    }

    /// Every target's last verification, by target.
    static func all(_ db: Database) throws -> [HomeStatus.VerificationStatus] {
        guard try db.tableExists("runnel_verifications") else { return [] }
        return try Row.fetchAll(db, sql: "SELECT * FROM runnel_verifications ORDER BY target").map { row in
            HomeStatus.VerificationStatus(target: row["target"], checkedAt: row["checked_at"], damaged: row["damaged"], firstDamage: row["first_damage"])
        }
    }
}
