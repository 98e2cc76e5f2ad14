import Foundation
import Hummingbird
import Runnel

/// The pages and their JSON twins under `/api/`, the files of `<home>/reports/` and `/metrics`. Each handler checks its parameters, reads off
/// the cooperative pool through ``DashboardDatabases``, then renders.
struct DashboardRoutes: Sendable {
    let databases: DashboardDatabases
    let history: LagHistory
    let renderer: PageRenderer
    let metrics: (@Sendable () -> String)?

    var home: RunnelHome { databases.home }

    func register<Context: RequestContext>(on router: Router<Context>) {
        route("/", on: router) { _, _ in StatusPage.context(try await status(), home: home) }
        api("/api/status", on: router) { _, _ in JSONBody.response(try await status().json()) }

        route("/pipelines", on: router) { _, _ in PipelinesPage.context(try await pipelines(), home: home) }
        api("/api/pipelines", on: router) { _, _ in try JSONBody.response(try await pipelines()) }

        route("/exceptions", on: router) { request, _ in
            let payload = try await exceptions(request)
            let hasReports = try await databases.blocking { [home] in
                FileManager.default.fileExists(atPath: home.reportsURL.appendingPathComponent("exceptions/index.html").path)
            }
            return ExceptionsPages.exceptions(payload, hasReports: hasReports, home: home)
        }
        api("/api/exceptions", on: router) { request, _ in try JSONBody.response(try await exceptions(request)) }
        route("/tickets", on: router) { request, _ in ExceptionsPages.tickets(try await tickets(request), home: home) }
        api("/api/tickets", on: router) { request, _ in try JSONBody.response(try await tickets(request)) }
        route("/exceptions/tickets/{id}", on: router) { _, context in ExceptionsPages.ticket(try await ticket(context), home: home) }
        api("/api/tickets/{id}", on: router) { _, context in try JSONBody.response(try await ticket(context)) }

        route("/sagas", on: router) { request, _ in
            SagasPages.list(try await sagas(request), sagas: databases.catalog.sagas.map(\.name).sorted(), home: home)
        }
        api("/api/sagas", on: router) { request, _ in try JSONBody.response(try await sagas(request)) }
        route("/sagas/{id}", on: router) { _, context in SagasPages.instance(try await saga(context), home: home) }
        api("/api/sagas/{id}", on: router) { _, context in try JSONBody.response(try await saga(context)) }

        route("/kv", on: router) { _, _ in StoragePages.kv(try await kv(), home: home) }
        api("/api/kv", on: router) { _, _ in try JSONBody.response(try await kv()) }

        route("/views", on: router) { _, _ in StoragePages.views(try await views(), home: home) }
        api("/api/views", on: router) { _, _ in try JSONBody.response(try await views()) }
        route("/views/{name}", on: router) { request, context in StoragePages.view(try await view(request, context), home: home) }
        api("/api/views/{name}", on: router) { request, context in try JSONBody.response(try await view(request, context)) }

        api("/reports/**", on: router) { request, _ in
            let segments = try ReportFiles.segments(of: request.uri.path.dropFirst("/reports/".count))
            let files = ReportFiles(root: home.reportsURL)
            let file = try await databases.blocking { try files.read(segments) }
            return Response(status: .ok, headers: [.contentType: file.contentType, .cacheControl: "no-store"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: file.data)))
        }

        api("/metrics", on: router) { _, _ in
            guard let metrics else {
                throw DashboardError.notFound("this dashboard serves no metrics: `runnel up` serves them at /metrics; `runnel serve` does not collect any")
            }
            let text = try await databases.blocking(metrics)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
    }

    // MARK: - Registration

    /// An HTML page at `path` (GET and HEAD), from `template` named like the path's first part.
    private func route<Context: RequestContext>(_ path: RouterPath, on router: Router<Context>,
                                                 _ read: @escaping @Sendable (Request, Context) async throws -> [String: Any]) {
        let template = Self.template(for: path)
        let handler: @Sendable (Request, Context) async throws -> Response = { request, context in
            renderer.page(template, try await read(request, context))
        }
        router.get(path, use: handler)
        router.head(path, use: handler)
    }

    /// A response at `path` (GET and HEAD) made by `respond`.
    private func api<Context: RequestContext>(_ path: RouterPath, on router: Router<Context>,
                                               _ respond: @escaping @Sendable (Request, Context) async throws -> Response) {
        router.get(path, use: respond)
        router.head(path, use: respond)
    }

    private static func template(for path: RouterPath) -> String {
        switch "\(path)" {
        case "/": "status"
        case "/exceptions/tickets/{id}": "ticket"
        case "/sagas/{id}": "saga"
        case "/views/{name}": "view"
        default: String("\(path)".dropFirst())
        }
    }

    /// A path parameter, percent-decoded (a view, ticket or saga id may hold any character).
    private static func parameter(_ name: String, _ context: some RequestContext) -> String {
        let raw = context.parameters.get(name) ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    // MARK: - Reading

    private func status() async throws -> HomeStatus {
        try await databases.blocking { [databases] in try databases.status.readShared() }
    }

    private func pipelines() async throws -> PipelinesPayload {
        PipelinesPayload(status: try await status(), history: history)
    }

    private func exceptions(_ request: Request) async throws -> ExceptionsPayload {
        let hours = try QueryParameters(request).integer("hours", in: 1...168, default: 24)
        return try await databases.readDerived { db in try ExceptionsPayload.read(hours: hours, in: db) }
    }

    private func tickets(_ request: Request) async throws -> TicketsPayload {
        let state = try QueryParameters(request).choice("state", from: TicketsPayload.states, default: "open") ?? "open"
        return try await databases.readDerived { db in try TicketsPayload.read(state: state, in: db) }
    }

    private func ticket(_ context: some RequestContext) async throws -> TicketDetailPayload {
        let id = Self.parameter("id", context)
        guard let ticket = try await databases.readDerived({ db in try TicketDetailPayload.read(id: id, in: db) }) else {
            throw DashboardError.notFound("there is no ticket \(id): /tickets?state=all lists every ticket")
        }
        return ticket
    }

    private func sagas(_ request: Request) async throws -> SagasPayload {
        let query = QueryParameters(request)
        let state = try query.choice("state", from: SagasPayload.states, default: nil).flatMap(SagaState.init(rawValue:))
        let limit = try query.integer("limit", in: 1...1000, default: 50)
        let page = try query.integer("page", in: 1...Int(Int32.max), default: 1)
        let saga = query.text("saga")
        return try await databases.readApp { db in try SagasPayload.read(saga: saga, state: state, page: page, limit: limit, in: db) }
    }

    private func saga(_ context: some RequestContext) async throws -> SagaDetailPayload {
        let id = Self.parameter("id", context)
        guard let saga = try await databases.readApp({ db in try SagaDetailPayload.read(id: id, in: db) }) else {
            throw DashboardError.notFound("there is no saga instance \(id): /sagas lists the instances")
        }
        return saga
    }

    private func kv() async throws -> KVPayload {
        try await databases.blocking { [home] in try KVPayload.read(home: home) }
    }

    private func views() async throws -> ViewsPayload {
        try await databases.readDerived { db in try ViewsPayload.read(in: db) }
    }

    private func view(_ request: Request, _ context: some RequestContext) async throws -> ViewPagePayload {
        let query = QueryParameters(request)
        let limit = try query.integer("limit", in: 1...1000, default: 100)
        let page = try query.integer("page", in: 1...Int(Int32.max), default: 1)
        let name = Self.parameter("name", context)
        guard let view = try await databases.readDerived({ db in try ViewPagePayload.read(name: name, page: page, limit: limit, in: db) }) else {
            throw DashboardError.notFound("there is no read view \(name) in derived.sqlite: /views lists them")
        }
        return view
    }
}
