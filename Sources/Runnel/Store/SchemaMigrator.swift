import Foundation
import GRDB
import Logging

/// Applies the application's business migrations (`NNNN_name.sql` files, see ``Migrations``) to `app.sqlite`.
///
/// Each file runs in its own transaction and is recorded in `runnel_schema_migrations` with its
/// SHA-256 in that same transaction, so a file is either wholly applied and recorded or not at
/// all. Before anything runs, the files and the record are checked against each other: a gap, a
/// duplicate number, or an applied file that changed or disappeared stops the run with the
/// database unchanged.
///
/// ```swift
/// let applied = try SchemaMigrator(directory: URL(fileURLWithPath: "migrations")).migrate(store.app)
/// ```
public struct SchemaMigrator: Sendable {
    /// Where a migration stands against a database.
    public struct Status: Sendable, Hashable {
        public enum State: String, Sendable, Hashable {
            /// Applied, and the file still has the checksum recorded then.
            case applied
            /// Not applied yet.
            case pending
            /// Applied, but the file has changed since.
            case changed
            /// Applied, but no file has this number any more.
            case missing
        }
        public let number: Int
        public let fileName: String
        public let state: State
        /// When it was applied, if it was.
        public let appliedAt: Date?
    }

    /// Where the `NNNN_name.sql` files come from.
    public let migrations: Migrations
    private let logger: Logger

    /// Creates a migrator for a set of migrations, from a folder or embedded in the build.
    public init(_ migrations: Migrations, logger: Logger = Logger(label: "runnel.migrations")) {
        self.migrations = migrations
        self.logger = logger
    }

    /// Creates a migrator for a folder.
    public init(directory: URL, logger: Logger = Logger(label: "runnel.migrations")) {
        self.init(.folder(directory), logger: logger)
    }

    /// Lists every migration, applied or pending, and any applied one whose file changed or is gone.
    /// - Throws: ``RunnelError`` with code `.migration` when the folder is inconsistent.
    public func status(_ writer: some DatabaseReader) throws -> [Status] {
        let files = try migrations.load()
        let records = try RunnelError.naming(writer.path, "reading the applied migrations") { try writer.read(AppliedMigration.fetchAll) }
        let byNumber = Dictionary(uniqueKeysWithValues: records.map { ($0.number, $0) })
        var statuses = files.map { file -> Status in
            guard let record = byNumber[file.number] else {
                return Status(number: file.number, fileName: file.fileName, state: .pending, appliedAt: nil)
            }
            let state: Status.State = record.checksum == file.checksum && record.name == file.fileName ? .applied : .changed
            return Status(number: file.number, fileName: file.fileName, state: state, appliedAt: record.appliedAt)
        }
        let fileNumbers = Set(files.map(\.number))
        for record in records where !fileNumbers.contains(record.number) {
            statuses.append(Status(number: record.number, fileName: record.name, state: .missing, appliedAt: record.appliedAt))
        }
        return statuses.sorted { $0.number < $1.number }
    }

    /// Applies every pending migration in order.
    /// - Returns: The files applied by this call, in order (empty when the schema is current).
    /// - Throws: ``RunnelError`` with code `.migration`: before anything is applied when the folder
    ///   and the record disagree; or naming the file and SQLite's message when a script fails or
    ///   touches Runnel's own tables (`runnel_*`, `grdb_migrations`), in which case that file left
    ///   nothing behind and the files before it stay applied. `.database` when the database
    ///   itself fails (full disk, damaged file), naming it.
    @discardableResult
    public func migrate(_ writer: some DatabaseWriter) throws -> [MigrationFile] {
        let files = try migrations.load()
        let statuses = try status(writer)
        if let changed = statuses.first(where: { $0.state == .changed }) {
            let applied = changed.appliedAt.map { " on \(ISO8601DateFormatter().string(from: $0))" } ?? ""
            throw RunnelError(.migration, "the migration \(changed.fileName) was changed after it was applied\(applied): its checksum no longer matches",
                              hint: "Applied migrations are immutable. Restore the file and put the change in a new migration numbered \(String(format: "%04d", files.count + 1))")
        }
        if let missing = statuses.first(where: { $0.state == .missing }) {
            throw RunnelError(.migration, "the migration \(missing.fileName) (number \(missing.number)) was applied to this database but is not in \(migrations.origin)",
                              hint: "Restore the file, or point --migrations at the folder this database was built from")
        }
        let pending = Set(statuses.filter { $0.state == .pending }.map(\.number))
        var applied: [MigrationFile] = []
        for file in files where pending.contains(file.number) {
            try apply(file, to: writer)
            applied.append(file)
            logger.info("applied migration", metadata: ["runnel.migration.file": "\(file.fileName)"])
        }
        return applied
    }

    private func apply(_ file: MigrationFile, to writer: some DatabaseWriter) throws {
        do {
            try writer.write { db in
                try Self.executeGuarded(file.sql, in: db)
                try db.execute(
                    sql: "INSERT INTO runnel_schema_migrations (number, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
                    arguments: [file.number, file.fileName, file.checksum, Date().millisecondsSince1970])
            }
        } catch let change as OwnTableChange {
            let location = Self.line(of: change.statement, in: file.sql).map { " at line \($0)" } ?? ""
            throw RunnelError(.migration, "the migration \(file.fileName)\(location) \(change.change) (\(change.statement.trimmingCharacters(in: .whitespacesAndNewlines).prefix(80))); nothing from this file was applied",
                              hint: "Business migrations may not create, alter, drop or write runnel_* tables or grdb_migrations: Runnel manages them. Remove that statement from \(file.location) (name business tables without the runnel_ prefix) and run `runnel migrate` again")
        } catch let error as DatabaseError where error.isFailureOfTheDatabase {
            throw RunnelError.database(error, path: writer.path, during: "applying the migration \(file.fileName)")
        } catch let error as DatabaseError {
            var location = ""
            if let statement = error.sql, let line = Self.line(of: statement, in: file.sql) {
                location = " at line \(line)"
            }
            throw RunnelError(.migration, "the migration \(file.fileName) failed\(location): \(error.message ?? "\(error.resultCode)"); nothing from this file was applied",
                              hint: "Fix the SQL in \(file.location) and run `runnel migrate` again")
        }
    }

    /// The 1-based line where a failing statement starts in a script, if it can be found.
    static func line(of statement: String, in script: String) -> Int? {
        let trimmed = statement.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, let range = script.range(of: trimmed) else { return nil }
        return script[..<range.lowerBound].reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
    }
}

/// A row of `runnel_schema_migrations`.
struct AppliedMigration: FetchableRecord {
    var number: Int
    var name: String
    var checksum: String
    var appliedAt: Date

    init(row: Row) {
        number = row["number"]
        name = row["name"]
        checksum = row["checksum"]
        appliedAt = Date(millisecondsSince1970: row["applied_at"])
    }

    static func fetchAll(_ db: Database) throws -> [AppliedMigration] {
        try fetchAll(db, sql: "SELECT * FROM runnel_schema_migrations ORDER BY number")
    }
}
