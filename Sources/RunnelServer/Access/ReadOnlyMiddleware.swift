import Hummingbird

/// Keeps the dashboard read-only: GET and HEAD only (anything else is 405 with `Allow`), and no
/// request body (413). A HEAD request is answered as its GET, without the body.
struct ReadOnlyMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .get || request.method == .head else {
            throw DashboardError(status: .methodNotAllowed,
                                 message: "the dashboard is read-only and answers GET and HEAD only, not \(request.method.rawValue)",
                                 headers: [.allow: "GET, HEAD"])
        }
        let length = request.headers[.contentLength].flatMap { Int($0) } ?? 0
        guard length == 0, request.headers[.transferEncoding] == nil else {
            throw DashboardError(status: .contentTooLarge,
                                 message: "the dashboard takes no request body (this one has \(length > 0 ? "\(length) bytes" : "a chunked body")): send the request without one")
        }
        var response = try await next(request, context)
        if request.method == .head {
            response.body = ResponseBody()
        }
        return response
    }
}
