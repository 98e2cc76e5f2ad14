import Foundation
import GRDB
import NIOPosix
import Runnel

/// The dashboard's read-only connections to a home, opened once, and the threads its reads run
/// on.
///
/// SQLite calls and file reads block, so none runs on Swift's cooperative pool: each read is
/// handed to a `NIOThreadPool` and the request's task awaits it. The connections are read-only
/// (`SQLITE_OPEN_READONLY`); in WAL mode a reader takes no write lock, so the pages never hold
/// up a runner's commit.
final class DashboardDatabases: Sendable {
    let home: RunnelHome
    let catalog: Catalog
    let app: DatabaseQueue
    let derived: DatabaseQueue
    /// Reads the same facts as `runnel status`, through ``app`` and ``derived``.
    let status: StatusReader
    private let threads: NIOThreadPool

    /// Opens the home's databases read-only.
    /// - Throws: ``RunnelError`` `.home` when the home has no databases yet.
    init(home: RunnelHome, catalog: Catalog, threads: NIOThreadPool = .singleton) throws {
        self.home = home
        self.catalog = catalog
        app = try Store.openReadOnly(home, .app)
        derived = try Store.openReadOnly(home, .derived)
        status = StatusReader(home: home, catalog: catalog, app: app, derived: derived)
        self.threads = threads
    }

    /// Runs blocking work on the thread pool and returns its result.
    func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await threads.runIfActive(work)
    }

    /// Reads `derived.sqlite` off the cooperative pool.
    func readDerived<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await blocking { [derived] in try derived.read(body) }
    }

    /// Reads `app.sqlite` off the cooperative pool.
    func readApp<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await blocking { [app] in try app.read(body) }
    }
}
