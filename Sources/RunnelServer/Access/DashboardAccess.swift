import Foundation
import Runnel

/// Who may read the dashboard: anyone who can reach a loopback address, or, on any other
/// address, whoever presents the bearer token.
///
/// The dashboard is read-only, but it shows business data (read views, saga state, stack
/// traces), so it binds `127.0.0.1` by default and refuses to listen on another address without
/// a token, rather than expose that data to a network by a mistyped flag.
public struct DashboardAccess: Sendable, Equatable {
    /// The environment variable read when `--token` is not given.
    public static let tokenVariable = "RUNNEL_DASHBOARD_TOKEN"

    /// The address the server binds.
    public let host: String
    /// The port the server binds; 0 picks a free one.
    public let port: Int
    /// The bearer token every request must carry (`Authorization: Bearer …`), or nil on loopback.
    public let token: String?

    /// Checks a binding and its token.
    /// - Parameters:
    ///   - host: The address to bind: `127.0.0.1`, `::1`, `localhost`, or another address.
    ///   - port: The port, 0 to 65535.
    ///   - token: The bearer token; required unless `host` is a loopback address. On loopback
    ///     it is still checked when given.
    /// - Throws: ``RunnelError`` `.invalidArgument` for a port out of range, an empty or short
    ///   token, or a non-loopback address without a token.
    public init(host: String = "127.0.0.1", port: Int = 8080, token: String? = nil) throws {
        guard (0...65_535).contains(port) else {
            throw RunnelError(.invalidArgument, "port \(port) is out of range", hint: "Give a port from 1 to 65535, or 0 for a free one")
        }
        if let token {
            guard token.count >= 16, token.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                throw RunnelError(.invalidArgument, "the dashboard token must be at least 16 printable ASCII characters without spaces",
                                  hint: "Make one with `openssl rand -hex 32`")
            }
        }
        guard token != nil || Self.isLoopback(host) else {
            throw RunnelError(.invalidArgument, "the dashboard would listen on \(host), which is not a loopback address, without a token",
                              hint: "Anyone who can reach \(host) could read your views and sagas: give --token (or \(Self.tokenVariable)), or bind 127.0.0.1")
        }
        self.host = host
        self.port = port
        self.token = token
    }

    /// Whether `host` only accepts connections from this machine.
    public static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased()
        return host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// Whether a request's `Authorization` header value lets it in.
    /// - Parameter authorization: The header's value, if any.
    public func admits(authorization: String?) -> Bool {
        guard let token else { return true }
        guard let authorization, authorization.hasPrefix("Bearer ") else { return false }
        // Compared in full whatever the first difference, so the time taken says nothing about the token.
        let given = Array(authorization.utf8.dropFirst(7)), expected = Array(token.utf8)
        var difference = given.count ^ expected.count
        for index in 0..<max(given.count, expected.count) {
            difference |= Int((index < given.count ? given[index] : 0) ^ (index < expected.count ? expected[index] : 0))
        }
        return difference == 0
    }
}
