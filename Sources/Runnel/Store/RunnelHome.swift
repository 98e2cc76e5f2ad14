import Foundation

/// The folder that holds everything Runnel keeps for one application.
///
/// The layout is described in `docs/operations.md`: `app.sqlite` (business tables and the outbox,
/// the source of truth), `derived.sqlite` (read views and pipeline state, rebuildable), `log/`,
/// `kv/` and `reports/`.
public struct RunnelHome: Sendable, Hashable, CustomStringConvertible {
    /// The environment variable that names the home when `--home` is not given.
    public static let environmentVariable = "RUNNEL_HOME"
    /// The home used when neither `--home` nor `RUNNEL_HOME` is given, relative to the current folder.
    public static let defaultPath = ".runnel"

    /// The home folder.
    public let url: URL

    /// Creates a home at a folder; nothing is created on disk until the store is opened.
    public init(_ url: URL) {
        self.url = url.standardizedFileURL
    }

    /// Resolves the home the way every command does: an explicit path first, then
    /// `RUNNEL_HOME`, then `./.runnel`.
    /// - Parameters:
    ///   - path: The value of `--home`, if given.
    ///   - environment: The process environment (injectable for tests).
    public static func resolve(
        _ path: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> RunnelHome {
        let chosen = path ?? environment[environmentVariable].flatMap { $0.isEmpty ? nil : $0 } ?? defaultPath
        let expanded = (chosen as NSString).expandingTildeInPath
        return RunnelHome(URL(fileURLWithPath: expanded, isDirectory: true))
    }

    /// The business database: business tables, the outbox and saga state.
    public var appDatabaseURL: URL { url.appendingPathComponent(DatabaseRole.app.fileName) }
    /// The derived database: read views, pipeline state, tickets and its own outbox.
    public var derivedDatabaseURL: URL { url.appendingPathComponent(DatabaseRole.derived.fileName) }
    /// The file-segment log.
    public var logURL: URL { url.appendingPathComponent("log", isDirectory: true) }
    /// Derived key-value stores.
    public var kvURL: URL { url.appendingPathComponent("kv", isDirectory: true) }
    /// Generated reports.
    public var reportsURL: URL { url.appendingPathComponent("reports", isDirectory: true) }

    /// The URL of one of the two databases.
    public func databaseURL(_ role: DatabaseRole) -> URL {
        switch role {
        case .app: appDatabaseURL
        case .derived: derivedDatabaseURL
        }
    }

    /// Whether the home has been initialised (its app database exists).
    public var isInitialized: Bool {
        FileManager.default.fileExists(atPath: appDatabaseURL.path)
    }

    public var description: String { url.path }
}

/// One of the two SQLite databases of a home.
public enum DatabaseRole: String, Sendable, CaseIterable, CustomStringConvertible {
    /// `app.sqlite`: the source of truth.
    case app
    /// `derived.sqlite`: rebuildable from the log.
    case derived

    /// The file name inside the home.
    public var fileName: String { "\(rawValue).sqlite" }

    public var description: String { fileName }
}
