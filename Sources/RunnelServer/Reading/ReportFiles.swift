import Foundation

/// The files under `<home>/reports/` (hourly exception reports, their dashboard, notifications),
/// served read-only at `/reports/…`, and nothing outside that folder.
///
/// A path is taken apart into segments, each percent-decoded once; `.`, `..`, empty segments and
/// segments holding `/`, `\` or NUL after decoding are refused, so no spelling of a traversal gets
/// through. The file's real path (symbolic links resolved) must then lie inside the real path of
/// the folder, so a link pointing out of it is not followed.
struct ReportFiles: Sendable {
    /// The biggest file served.
    static let maximumSize = 32 << 20

    let root: URL

    /// The content type served for each extension; other files are not served.
    static let contentTypes: [String: String] = [
        "html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8", "txt": "text/plain; charset=utf-8",
        "json": "application/json", "jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8",
        "svg": "image/svg+xml", "png": "image/png",
    ]

    /// The decoded segments of a path under `/reports/`.
    /// - Throws: ``DashboardError`` 400 for a traversal or an undecodable segment.
    static func segments(of path: Substring) throws -> [String] {
        // A folder's trailing slash is not an empty name.
        var parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if parts.last?.isEmpty == true { parts.removeLast() }
        return try parts.map { raw in
            guard let segment = raw.removingPercentEncoding, !segment.isEmpty, segment != ".", segment != "..",
                  !segment.contains("/"), !segment.contains("\\"), !segment.contains("\0") else {
                throw DashboardError(status: .badRequest,
                                     message: "the path /reports/\(path) is not allowed: each part of it must be a file or folder name, without ., .., encoded slashes or NUL")
            }
            return segment
        }
    }

    /// Reads the file at `segments` (a folder's `index.html` for a folder), with its content type.
    /// - Throws: ``DashboardError`` 404 when there is no such file inside the reports folder.
    func read(_ segments: [String]) throws -> (data: Data, contentType: String) {
        let notFound = DashboardError.notFound("there is no report at /reports/\(segments.joined(separator: "/")): /exceptions links to the exception reports")
        guard let base = Self.realPath(root) else { throw notFound }
        var file = segments.reduce(root) { $0.appendingPathComponent($1) }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: file.path, isDirectory: &isFolder), isFolder.boolValue {
            file.appendPathComponent("index.html")
        }
        guard let real = Self.realPath(file), real.hasPrefix(base + "/"),
              let type = Self.contentTypes[URL(fileURLWithPath: real).pathExtension.lowercased()],
              let attributes = try? FileManager.default.attributesOfItem(atPath: real),
              attributes[.type] as? FileAttributeType == .typeRegular,
              let size = attributes[.size] as? Int, size <= Self.maximumSize,
              let data = FileManager.default.contents(atPath: real) else { throw notFound }
        return (data, type)
    }

    /// The path with every symbolic link resolved (`realpath(3)`), or nil when it does not exist.
    static func realPath(_ url: URL) -> String? {
        guard let resolved = realpath(url.path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
