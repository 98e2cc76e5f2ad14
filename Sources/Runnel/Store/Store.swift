import Foundation
import GRDB
import Logging

/// An open Runnel home: its two SQLite databases, ready for business writes and outbox appends.
///
/// Opening a store creates the home folder and both databases if they are missing, puts them in
/// WAL mode with a busy timeout and foreign keys on, and applies Runnel's own schema (the outbox
/// and its bookkeeping) with versioned migrations. Business tables come from the application's
/// migration files, applied with ``SchemaMigrator``.
///
/// ```swift
/// let store = try Store.open(RunnelHome.resolve(nil))
/// try store.app.write { db in
///     try db.execute(sql: "UPDATE profiles SET headline = ? WHERE member_id = ?", arguments: [headline, id])
///     try store.outbox.append(OutboxEvent(topic: "member-profile", key: "\(id)", type: "HeadlineUpdated",
///                                         payload: change, eventTime: now), in: db)
/// }
/// ```
public final class Store: Sendable {
    /// The home this store lives in.
    public let home: RunnelHome
    /// `app.sqlite`: business tables, the outbox, saga state.
    public let app: DatabasePool
    /// `derived.sqlite`: read views, pipeline state, its own outbox.
    public let derived: DatabasePool
    /// The outbox appender, with the limits this store enforces.
    public let outbox: Outbox

    private init(home: RunnelHome, app: DatabasePool, derived: DatabasePool, outbox: Outbox) {
        self.home = home
        self.app = app
        self.derived = derived
        self.outbox = outbox
    }

    /// The pool for one of the two databases.
    public func database(_ role: DatabaseRole) -> DatabasePool {
        switch role {
        case .app: app
        case .derived: derived
        }
    }

    /// Opens a home for reading and writing, creating it if needed.
    /// - Parameters:
    ///   - home: The home folder.
    ///   - outbox: The outbox appender (and its limits) this store hands out.
    ///   - logger: Where routine events (a database created, a schema upgraded) are logged.
    /// - Throws: ``RunnelError`` with code `.home` when the folder cannot be created or a database
    ///   cannot be opened; `.database` when a database is damaged or its disk is full, naming
    ///   the file and what to do.
    public static func open(
        _ home: RunnelHome,
        outbox: Outbox = Outbox(),
        logger: Logger = Logger(label: "runnel.store")
    ) throws -> Store {
        do {
            try FileManager.default.createDirectory(at: home.url, withIntermediateDirectories: true)
        } catch {
            throw RunnelError(.home, "cannot create the Runnel home at \(home.url.path): \(error.localizedDescription)",
                              hint: "Pass a writable folder with --home or RUNNEL_HOME")
        }
        let app = try openPool(home.appDatabaseURL)
        let derived = try openPool(home.derivedDatabaseURL)
        try RunnelError.naming(app.path, "bringing Runnel's tables in app.sqlite up to date") {
            try RunnelSchema.migrator(for: .app).migrate(app)
        }
        try RunnelError.naming(derived.path, "bringing Runnel's tables in derived.sqlite up to date") {
            try RunnelSchema.migrator(for: .derived).migrate(derived)
        }
        logger.debug("opened Runnel home", metadata: ["runnel.home": "\(home.url.path)"])
        return Store(home: home, app: app, derived: derived, outbox: outbox)
    }

    /// Opens one database of an existing home read-only, for inspection.
    ///
    /// Nothing is created: a missing home is an error. Every statement run through the returned
    /// queue is refused by SQLite if it would write.
    /// - Throws: ``RunnelError`` with code `.home` when the home or database does not exist;
    ///   `.database` when the file is damaged, naming it and what to do.
    public static func openReadOnly(_ home: RunnelHome, _ role: DatabaseRole) throws -> DatabaseQueue {
        let url = home.databaseURL(role)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw RunnelError(.home, "no \(role.fileName) in the Runnel home \(home.url.path)",
                              hint: "Run `runnel init` (or `runnel demo`) first, or point --home / RUNNEL_HOME at an existing home")
        }
        var configuration = makeConfiguration()
        configuration.readonly = true
        do {
            return try DatabaseQueue(path: url.path, configuration: configuration)
        } catch let error as DatabaseError where error.isFailureOfTheDatabase {
            throw RunnelError.database(error, path: url.path, during: "opening \(role.fileName) read-only")
        } catch {
            throw RunnelError(.home, "cannot open \(url.path) read-only: \(error)")
        }
    }

    /// The connection settings shared by every Runnel database.
    ///
    static func makeConfiguration() -> Configuration {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // Debian and others build SQLite with SECURE_DELETE on, which zeroes every deleted
            // row in place: the relay's deletes of relayed outbox rows then rewrite every page
            // they touch. FAST still zeroes deleted content when that costs no extra I/O.
            try db.execute(sql: "PRAGMA secure_delete = FAST")
        }
        return configuration
    }

    private static func openPool(_ url: URL) throws -> DatabasePool {
        do {
            let pool = try DatabasePool(path: url.path, configuration: makeConfiguration())
            // GRDB turns WAL databases to `synchronous = NORMAL`, which can lose the last commits
            // on a power cut. `app.sqlite` is the source of truth and `derived.sqlite` holds its
            // own outbox, whose ids must never be handed out twice: every commit is fsynced.
            try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
            return pool
        } catch let error as DatabaseError where error.isFailureOfTheDatabase {
            throw RunnelError.database(error, path: url.path, during: "opening \(url.lastPathComponent)")
        } catch {
            throw RunnelError(.home, "cannot open \(url.path): \(error)",
                              hint: "Check that the file is a SQLite database and the folder is writable")
        }
    }
}
