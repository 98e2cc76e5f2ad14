import HTTPTypes

/// A request the dashboard answers with an error status and a sentence saying what was wrong
/// and what to do: an unknown view, ticket or saga instance (404), a query parameter out of its
/// range (400), a method other than GET or HEAD (405), a request body (413).
///
/// ``ErrorMiddleware`` turns it into an HTML page, or `{"error": "…"}` under `/api/`.
struct DashboardError: Error, Sendable {
    let status: HTTPResponse.Status
    let message: String
    /// Extra headers, such as `Allow` on a 405 or `WWW-Authenticate` on a 401.
    var headers: HTTPFields = [:]

    static func notFound(_ message: String) -> DashboardError {
        DashboardError(status: .notFound, message: message)
    }

    /// A query parameter that is not one of the values it takes.
    static func badParameter(_ name: String, _ value: String, allowed: String) -> DashboardError {
        DashboardError(status: .badRequest, message: "query parameter \(name)=\(value) is not allowed: \(name) takes \(allowed)")
    }
}
