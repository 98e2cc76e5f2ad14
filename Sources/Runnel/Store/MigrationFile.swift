import Crypto
import Foundation

/// One business migration: a file named `NNNN_name.sql`, from a folder or embedded in the build
/// (see ``Migrations``).
public struct MigrationFile: Sendable, Hashable {
    /// The migration number, from the file name; numbers start at 1 and have no gaps.
    public let number: Int
    /// The file name, for example `0001_members.sql`.
    public let fileName: String
    /// Where the file is, for messages: its path, or `embedded NNNN_name.sql`.
    public let location: String
    /// The SQL script.
    public let sql: String
    /// SHA-256 of the file's bytes, lower-case hex.
    public let checksum: String

    /// Reads and checks the files of a migrations folder, in number order.
    ///
    /// Files not ending in `.sql` are ignored (a README may sit beside the migrations).
    /// - Throws: ``RunnelError`` with code `.migration` when the folder is missing, a `.sql` file is
    ///   not named `NNNN_name.sql` or is not UTF-8 (naming the line and byte), two files share a
    ///   number, or a number is missing.
    public static func load(from directory: URL) throws -> [MigrationFile] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RunnelError(.migration, "the migrations folder \(directory.path) does not exist",
                              hint: "Pass the folder holding your NNNN_name.sql files with --migrations DIR")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".sql") }
            .sorted()
        let contents = try names.map { name -> (String, [UInt8], String) in
            let url = directory.appendingPathComponent(name)
            do {
                return (name, Array(try Data(contentsOf: url)), url.path)
            } catch {
                throw RunnelError(.io, "cannot read the migration file \(url.path): \(error.localizedDescription)")
            }
        }
        return try check(contents, in: directory.path)
    }

    /// Checks named file contents as migrations: names, UTF-8, numbering without gaps.
    /// - Parameters:
    ///   - files: File name, bytes and where the file is (a path, for messages).
    ///   - origin: Where the set comes from, for messages.
    static func check(_ files: [(name: String, bytes: [UInt8], location: String)], in origin: String) throws -> [MigrationFile] {
        var checked: [MigrationFile] = []
        for (name, bytes, location) in files {
            guard let number = parseNumber(name) else {
                throw RunnelError(.migration, "the migration file \(name) in \(origin) is not named NNNN_name.sql",
                                  hint: "Rename it to a four-digit number, an underscore and a name of letters, digits and underscores, for example 0003_add_headline.sql")
            }
            let sql: String
            do {
                sql = try StrictUTF8.decode(Data(bytes))
            } catch {
                throw RunnelError(.migration, "the migration file \(location) is not valid UTF-8: \(error.description); nothing was applied",
                                  hint: "Save the file as UTF-8 and run `runnel migrate` again")
            }
            let checksum = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            checked.append(MigrationFile(number: number, fileName: name, location: location, sql: sql, checksum: checksum))
        }
        checked.sort { ($0.number, $0.fileName) < ($1.number, $1.fileName) }
        for (index, file) in checked.enumerated() {
            if index > 0, checked[index - 1].number == file.number {
                throw RunnelError(.migration, "the migration files \(checked[index - 1].fileName) and \(file.fileName) share the number \(file.number)",
                                  hint: "Give each migration its own number")
            }
            if file.number != index + 1 {
                throw RunnelError(.migration, "migration number \(String(format: "%04d", index + 1)) is missing: the next file is \(file.fileName)",
                                  hint: "Number migrations from 0001 without gaps; renumber \(file.fileName) if it has not been applied anywhere yet")
            }
        }
        return checked
    }

    /// Parses `NNNN_name.sql` into its number.
    private static func parseNumber(_ name: String) -> Int? {
        let stem = name.dropLast(4)
        let parts = stem.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, parts[0].count == 4, parts[0].allSatisfy(\.isASCII), let number = Int(parts[0]), number > 0,
              !parts[1].isEmpty,
              parts[1].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        else { return nil }
        return number
    }
}
