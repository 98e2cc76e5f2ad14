import Foundation
import Runnel

/// What every page's template gets besides its own data: the title, which navigation link is
/// current, the page's JSON twin and when and where the data was read.
enum PageContext {
    static func base(title: String, nav: String, api: String, home: RunnelHome, now: Date = Date()) -> [String: Any] {
        ["title": title, "nav_" + nav: true, "api": api, "home": home.url.path, "read_at": time(now)]
    }

    /// `2026-01-05 13:04:05`, UTC.
    static func time(_ date: Date?) -> String {
        guard let date else { return "" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withSpaceBetweenDateAndTime, .withTime, .withColonSeparatorInTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// A time in milliseconds since 1970, as ``time(_:)`` writes it; empty for nil.
    static func time(ms: Int64?) -> String {
        ms.map { time(Date(millisecondsSince1970: $0)) } ?? ""
    }

    /// `850 ms`, `12.5 s`, `3 min 20 s`, `2 h 5 min`; empty for nil.
    static func duration(ms: Int64?) -> String {
        guard let ms else { return "" }
        switch ms {
        case ..<1_000: return "\(ms) ms"
        case ..<60_000: return String(format: "%.1f s", Double(ms) / 1000)
        case ..<3_600_000: return "\(ms / 60_000) min \(ms % 60_000 / 1000) s"
        default: return "\(ms / 3_600_000) h \(ms % 3_600_000 / 60_000) min"
        }
    }

    /// `1.2 MB`, `340 B`.
    static func bytes(_ count: Int64?) -> String {
        guard let count else { return "" }
        return ByteCountFormatter.string(fromByteCount: count, countStyle: .file)
    }

    /// Unreserved characters (RFC 3986) and `:`; everything else is percent-encoded in a segment.
    private static let segmentCharacters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:")

    /// `text` made safe as one segment of a URL path.
    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: segmentCharacters) ?? text
    }

    /// `path` with the query parameters that have a value, each name and value percent-encoded.
    static func link(_ path: String, _ query: [(String, String?)]) -> String {
        let items = query.compactMap { name, value in value.map { segment(name) + "=" + segment($0) } }
        return items.isEmpty ? path : path + "?" + items.joined(separator: "&")
    }
}
