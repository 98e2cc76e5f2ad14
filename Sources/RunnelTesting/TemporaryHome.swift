import Foundation
import GRDB
import Runnel

/// A Runnel home in a unique temporary folder, removed when the value is released.
///
/// Every test that touches disk makes its own, so no two tests share a database:
///
/// ```swift
/// @Test func headlineChangeIsAnnounced() throws {
///     let home = try TemporaryHome()
///     let store = try home.openStore(migrations: home.fixtureMigrations)
///     …
/// }
/// ```
public final class TemporaryHome: Sendable {
    /// The home.
    public let home: RunnelHome
    /// The temporary folder holding the home (removed on release).
    public let folder: URL

    /// Creates an empty temporary folder; the home inside it is created when a store opens it.
    /// - Parameter label: A word to recognise the folder by when a test leaves it behind.
    public init(label: String = "test") throws {
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("runnel-\(label)-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        home = RunnelHome(folder.appendingPathComponent("home", isDirectory: true))
    }

    deinit {
        try? FileManager.default.removeItem(at: folder)
    }

    /// Opens (creating) the home's store.
    /// - Parameters:
    ///   - migrations: A folder of business migrations to apply, if any.
    ///   - outbox: The outbox appender and its limits.
    public func openStore(migrations: URL? = nil, outbox: Outbox = Outbox()) throws -> Store {
        try openStore(migrations: migrations.map(Migrations.folder), outbox: outbox)
    }

    /// Opens (creating) the home's store.
    /// - Parameters:
    ///   - migrations: Business migrations to apply (a catalog's, say), if any.
    ///   - outbox: The outbox appender and its limits.
    public func openStore(migrations: Migrations?, outbox: Outbox = Outbox()) throws -> Store {
        let store = try Store.open(home, outbox: outbox)
        if let migrations {
            try SchemaMigrator(migrations).migrate(store.app)
        }
        return store
    }

    /// Opens (creating) the home's store with a catalog's migrations and sample data loaded and
    /// relayed into the log: a home as `runnel demo` leaves it before pipelines run.
    /// - Throws: ``RunnelError`` when the catalog has no sample data.
    public func openStoreWithSampleData(_ catalog: Catalog) throws -> Store {
        guard let dataset = catalog.sampleData else {
            throw RunnelError(.sampleData, "the \(catalog.name) catalog has no sample data")
        }
        let store = try openStore(migrations: catalog.migrations)
        _ = try SampleLoader(dataset: dataset).loadDefault(into: store)
        let log = try Log.open(home.logURL)
        defer { try? log.close() }
        _ = try OutboxRelay(store: store, log: log).drain()
        return store
    }

    /// Writes migration files into a new folder under the temporary folder.
    /// - Parameter files: File names and their SQL.
    /// - Returns: The folder, to pass to ``openStore(migrations:outbox:)`` or ``SchemaMigrator``.
    public func makeMigrations(_ files: [String: String], folder name: String = "migrations") throws -> URL {
        let directory = folder.appendingPathComponent(name, isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (file, sql) in files {
            try Data(sql.utf8).write(to: directory.appendingPathComponent(file))
        }
        return directory
    }

    /// A second, independent connection to one of the home's databases, as another process
    /// would open it (for concurrency tests).
    package func openConnection(_ role: DatabaseRole) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        return try DatabaseQueue(path: home.databaseURL(role).path, configuration: configuration)
    }
}
