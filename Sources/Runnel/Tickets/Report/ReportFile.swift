import Foundation

/// A file in `reports/exceptions/`: an hourly report (`<hour>.md`, `<hour>.html`) or the
/// dashboard (`index.html`), as `runnel reports` lists them.
package struct ReportFile: Sendable, Hashable {
    /// The file.
    package let url: URL
    /// The hour's file stem (`2026-01-05T13`); `nil` for the dashboard.
    package let stem: String?
    /// Its size in bytes.
    package let size: Int64

    /// The reports and the dashboard of a home, the dashboard first, then the hours newest first
    /// (then by name). Other files (a write aside, the lock) are left out; a home with
    /// no reports has none.
    /// - Throws: ``RunnelError`` `.io` when the folder cannot be listed or a file measured.
    package static func all(in home: RunnelHome) throws -> [ReportFile] {
        try all(in: ExceptionReportWriter.folder(in: home))
    }

    static func all(in folder: URL) throws -> [ReportFile] {
        var files: [ReportFile] = []
        for name in try DurableFile.names(in: folder, missingIsEmpty: true) {
            let stem: String?
            if name == ExceptionReportWriter.indexName {
                stem = nil
            } else if let dot = name.lastIndex(of: "."), [".md", ".html"].contains(name[dot...]),
                      ReportTime.hourStart(fileStem: String(name[..<dot])) != nil {
                stem = String(name[..<dot])
            } else {
                continue
            }
            let url = folder.appendingPathComponent(name)
            let size: Int64
            do {
                size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value ?? 0
            } catch {
                // Gone since the listing (a write renaming over it is not a removal): leave it out.
                if !FileManager.default.fileExists(atPath: url.path) { continue }
                throw RunnelError(.io, "cannot read the size of \(url.path): \(error.localizedDescription)")
            }
            files.append(ReportFile(url: url, stem: stem, size: size))
        }
        return files.sorted { a, b in
            switch (a.stem, b.stem) {
            case (nil, nil): return false
            case (nil, _): return true
            case (_, nil): return false
            case (let x?, let y?):
                if !ReportOrder.same(x, y) { return ReportOrder.precedes(y, x) }
                return ReportOrder.precedes(a.url.lastPathComponent, b.url.lastPathComponent)
            }
        }
    }
}
