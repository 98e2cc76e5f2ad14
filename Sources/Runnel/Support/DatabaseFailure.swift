import Foundation
import GRDB

extension RunnelError {
    /// Turns a failure of a SQLite database into an error that says what failed, in which file,
    /// and what to do: a full disk, a damaged file, an I/O error. Anything that is not a
    /// `DatabaseError` (a ``RunnelError`` above all) passes through unchanged.
    ///
    /// ```swift
    /// try RunnelError.naming(store.derived.path, "committing a batch of pipeline \(name)") {
    ///     try store.derived.write { db in … }
    /// }
    /// ```
    /// - Parameters:
    ///   - path: The database file (`DatabasePool.path`).
    ///   - action: What was being done, as a phrase ("committing a batch of pipeline x").
    ///   - body: The database work.
    /// - Throws: `body`'s error, a SQLite failure turned into a ``RunnelError`` with code `.database`.
    package static func naming<T>(_ path: String, _ action: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            throw database(error, path: path, during: action())
        }
    }

    /// The error for a SQLite failure in `path` while doing `action` (see ``naming(_:_:_:)``).
    /// Without a path (a failure that reached the command line without the code that ran it
    /// naming its database, as a last resort) the message still says what happened and what to do.
    package static func database(_ error: DatabaseError, path: String? = nil, during action: String) -> RunnelError {
        let file = path.map { URL(fileURLWithPath: $0) }
        let name = file?.lastPathComponent
        let folder = file?.deletingLastPathComponent().path ?? "the home folder"
        let database = path ?? "a database of the Runnel home"
        let sqlite = "SQLite error \(error.extendedResultCode.rawValue): \(error.message ?? "\(error.resultCode)")"
        switch error.resultCode {
        case .SQLITE_FULL:
            return RunnelError(.database, "the disk holding \(database) is full: \(action) was rolled back, so nothing of it was written or lost (\(sqlite))",
                               hint: "Free space in \(folder) (`df -h \(path == nil ? "." : folder)`), then run the command again: it goes on from the last commit")
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            let what: String
            switch name {
            case DatabaseRole.derived.fileName?:
                what = "derived.sqlite holds only what the pipelines derived from the log: move it aside (`mv \(database) \(database).damaged`) and run `runnel run --all` to rebuild it from offset 0"
            case let name?:
                what = "\(name) is the source of truth and cannot be rebuilt: stop writers, restore it from a backup, or save what SQLite can still read with `sqlite3 \(database) .recover`"
            case nil:
                what = "`runnel inspect tables` and `runnel inspect tables --db derived` show which database fails to open. derived.sqlite can be moved aside and rebuilt with `runnel run --all`; app.sqlite must be restored from a backup"
            }
            return RunnelError(.database, "\(database) is damaged and cannot be read while \(action) (\(sqlite))", hint: what)
        case .SQLITE_IOERR:
            return RunnelError(.database, "reading or writing \(database) failed at the disk while \(action) (\(sqlite))",
                               hint: "Check the disk and the kernel log (`dmesg`); the transaction was rolled back, so run the command again once the disk is sound")
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN:
            return RunnelError(.database, "\(database) cannot be written while \(action) (\(sqlite))",
                               hint: "Check that \(folder) and its files are writable by this user and that the disk is not mounted read-only")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return RunnelError(.database, "\(database) stayed locked by another connection while \(action) (\(sqlite))",
                               hint: "Another process holds a long write transaction on it; let it finish (or stop it) and run the command again")
        default:
            return RunnelError(.database, "SQLite failed on \(database) while \(action) (\(sqlite))",
                               hint: path == nil ? "Run the command again with RUNNEL_LOG_LEVEL=debug to see which step failed" : nil)
        }
    }
}

extension DatabaseError {
    /// Whether the failure lies with the database file or its disk (full, damaged, unreadable,
    /// locked) rather than with the statement: such an error is no fault of the input being
    /// applied and must be reported with ``RunnelError/database(_:path:during:)``.
    package var isFailureOfTheDatabase: Bool {
        switch resultCode {
        case .SQLITE_FULL, .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_IOERR, .SQLITE_READONLY, .SQLITE_PERM,
             .SQLITE_CANTOPEN, .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_NOMEM:
            true
        default:
            false
        }
    }
}
