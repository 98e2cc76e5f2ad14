import Hummingbird

/// Lets a request through only when ``DashboardAccess`` admits it: on a dashboard with a token,
/// a request without `Authorization: Bearer <token>`, or with another token, gets 401 and
/// `WWW-Authenticate: Bearer`, whatever its path.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let access: DashboardAccess

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard access.admits(authorization: request.headers[.authorization]) else {
            throw DashboardError(status: .unauthorized,
                                 message: "this dashboard needs its bearer token: send the header Authorization: Bearer <token>",
                                 headers: [.wwwAuthenticate: "Bearer realm=\"runnel\""])
        }
        return try await next(request, context)
    }
}
