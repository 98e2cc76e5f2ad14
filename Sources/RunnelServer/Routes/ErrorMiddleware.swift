import Foundation
import Hummingbird
import Logging
import Runnel

/// Turns every error into a response a reader can act on: under `/api/` a JSON object
/// `{"error": "…"}`, elsewhere an HTML page with the message, both with the error's status.
/// An unexpected error (a database that cannot be read) is a 500 whose message says what failed,
/// and is logged.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let renderer: PageRenderer
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as DashboardError {
            return respond(to: request, with: error)
        } catch let error as HTTPError {
            let message = error.status == .notFound
                ? "there is no page at \(request.uri.path): the pages are /, /pipelines, /exceptions, /tickets, /sagas, /kv, /views and /metrics, each with its JSON under /api"
                : error.body ?? error.status.reasonPhrase
            return respond(to: request, with: DashboardError(status: error.status, message: message, headers: error.headers))
        } catch {
            logger.error("a dashboard page failed", metadata: ["dashboard.path": "\(request.uri.path)", "dashboard.error": "\(error)"])
            return respond(to: request, with: DashboardError(status: .internalServerError, message: "reading the home failed: \(error)"))
        }
    }

    private func respond(to request: Request, with error: DashboardError) -> Response {
        var response: Response
        if request.uri.path.hasPrefix("/api/") || request.uri.path == "/api" {
            let body = (try? JSONBody.encoder().encode(["error": error.message])) ?? Data()
            response = JSONBody.response(body, status: error.status)
        } else {
            response = renderer.page("error", [
                "title": "\(error.status.code) \(error.status.reasonPhrase)", "status": error.status.code, "message": error.message,
            ], status: error.status)
        }
        for field in error.headers {
            response.headers.append(field)
        }
        if request.method == .head { response.body = ResponseBody() }
        return response
    }
}
