import Foundation

/// Where an application's business migrations come from: a folder of `NNNN_name.sql` files, or
/// files compiled into the executable, so a copied binary migrates with no checkout beside it.
///
/// Ship migrations with the build by declaring them as resources embedded in code in your
/// target (`resources: [.embedInCode("migrations")]` in `Package.swift`) and listing them by name:
///
/// ```swift
/// let migrations = Migrations.embedded([
///     "0001_orders.sql": PackageResources._001_orders_sql,   // SwiftPM replaces a leading digit with _
///     "0002_refunds.sql": PackageResources._002_refunds_sql,
/// ])
/// ```
///
/// Either way the files are checked the same way (names, numbering without gaps, UTF-8) and the
/// same checksums are recorded, so a home migrated from the folder accepts the embedded copy of
/// the same files, and the other way round.
public struct Migrations: Sendable {
    /// Where the files come from, as messages name it: the folder's path, or
    /// `migrations embedded in the build`.
    public let origin: String
    private let read: @Sendable () throws -> [MigrationFile]

    private init(origin: String, read: @escaping @Sendable () throws -> [MigrationFile]) {
        self.origin = origin
        self.read = read
    }

    /// The `.sql` files of a folder, read each time they are loaded.
    public static func folder(_ directory: URL) -> Migrations {
        Migrations(origin: directory.path) { try MigrationFile.load(from: directory) }
    }

    /// Files compiled into the executable: file name (`NNNN_name.sql`) to bytes.
    public static func embedded(_ files: [String: [UInt8]]) -> Migrations {
        Migrations(origin: "migrations embedded in the build") {
            try MigrationFile.check(files.keys.sorted().map { name in (name, files[name]!, "embedded \(name)") }, in: "the embedded migrations")
        }
    }

    /// The files, checked and in number order.
    /// - Throws: ``RunnelError`` with code `.migration` when a file is misnamed or not UTF-8,
    ///   two share a number or a number is missing; `.io` when the folder cannot be read.
    public func load() throws -> [MigrationFile] {
        try read()
    }
}
