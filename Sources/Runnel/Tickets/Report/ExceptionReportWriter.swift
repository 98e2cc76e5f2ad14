import Foundation
import GRDB
import Metrics

/// Writes a home's hourly exception reports and dashboard: `reports/exceptions/<hour>.md` and
/// `.html`, and `reports/exceptions/index.html`, from the tickets tables in `derived.sqlite`.
///
/// ```swift
/// let writer = ExceptionReportWriter(store: store, title: catalog.name)
/// let files = try writer.write(hour: Date(timeIntervalSince1970: 1_767_618_000))   // 2026-01-05T13
/// print(files.html.path)   // …/reports/exceptions/2026-01-05T13.html
/// ```
///
/// Each file is written aside, fsynced and renamed into place, then the folder is fsynced, so a
/// reader or a crash sees the old file or the new one, never half of one. Writers of one home
/// take turns (a lock file in the folder), so two of them never lose each other's hour from the
/// dashboard. The bytes depend only on the tickets tables and the reports present: writing the
/// same hour again gives the same files.
public struct ExceptionReportWriter: Sendable {
    /// The store whose `derived.sqlite` holds the tickets and whose home gets the files.
    public let store: Store
    /// What the reports are about (the catalog's name).
    public let title: String
    /// Hourly reports written (`docs/metrics.md`), made once per writer.
    private let written = Counter(label: "runnel_reports_written_total")

    /// The files of one hour's report, and the dashboard written with them.
    public struct Files: Sendable, Hashable {
        /// `<hour>.md`.
        public let markdown: URL
        /// `<hour>.html`.
        public let html: URL
        /// `index.html`, the dashboard.
        public let index: URL
    }

    /// - Parameters:
    ///   - store: The home's store.
    ///   - title: What the reports are about, e.g. the catalog's name.
    public init(store: Store, title: String) {
        self.store = store
        self.title = title
    }

    /// `reports/exceptions/` of a home.
    public static func folder(in home: RunnelHome) -> URL {
        home.reportsURL.appendingPathComponent("exceptions", isDirectory: true)
    }

    /// The dashboard's file name in ``folder(in:)``.
    public static let indexName = "index.html"

    /// Writes the report of one UTC hour and regenerates the dashboard, whose latest hour is the
    /// newest report present.
    /// - Parameter hour: The hour; a time within the hour counts as its start.
    /// - Returns: The files written.
    /// - Throws: ``RunnelError`` `.tickets` when the tickets pipeline has not run, `.io` naming
    ///   the file that could not be written; `DatabaseError` when a read fails.
    @discardableResult
    public func write(hour: Date) throws -> Files {
        let folder = Self.folder(in: store.home)
        try Self.createFolder(folder, in: store.home)
        return try Self.withLock(folder) {
            // Under the lock no write is in flight, so any file aside was left by a crash.
            for name in try DurableFile.names(in: folder) where name.hasSuffix(".tmp") {
                try DurableFile.remove(folder.appendingPathComponent(name))
            }
            let stem = ReportTime.fileStem(hourStart: ReportTime.hourStart(of: hour))
            let stems = Set(try ReportFile.all(in: folder).compactMap(\.stem)).union([stem])
            // Newest by text is newest in time: stems sort that way.
            let latest = stems.max { ReportOrder.precedes($0, $1) }.flatMap(ExceptionReport.hour(fileStem:)) ?? hour
            // One read transaction, so the report and the dashboard agree.
            let (report, dashboard) = try store.derived.read { db in
                (try ExceptionReport.read(hour: hour, title: title, from: db),
                 try ExceptionDashboard.read(latestHour: latest, title: title, hours: stems.sorted(), from: db))
            }
            let files = Files(markdown: folder.appendingPathComponent(stem + ".md"), html: folder.appendingPathComponent(stem + ".html"),
                              index: folder.appendingPathComponent(Self.indexName))
            try DurableFile.replace(files.markdown, with: Data(report.markdown().utf8))
            try DurableFile.replace(files.html, with: Data(report.html().utf8))
            try DurableFile.replace(files.index, with: Data(dashboard.html().utf8))
            written.increment()
            return files
        }
    }

    /// Creates `reports/exceptions/` and makes its creation durable.
    private static func createFolder(_ folder: URL, in home: RunnelHome) throws {
        guard !FileManager.default.fileExists(atPath: folder.path) else { return }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw RunnelError(.io, "cannot create the reports folder \(folder.path): \(error.localizedDescription)",
                              hint: "Check that \(home.url.path) is writable by this user")
        }
        try DurableFile.syncFolder(home.reportsURL)
        try DurableFile.syncFolder(home.url)
    }

    /// Runs `body` holding the folder's lock, waiting for another writer to finish.
    private static func withLock<Result>(_ folder: URL, _ body: () throws -> Result) throws -> Result {
        let lock = try DurableFile(folder.appendingPathComponent(".lock"), create: true)
        try lock.lock()
        return try withExtendedLifetime(lock) { try body() }
    }
}
