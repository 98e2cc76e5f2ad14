import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Pipelines
import Runnel
import RunnelCLI
import RunnelTesting
import Synchronization
@testable import RunnelServer

/// A home for one test, made by `runnel demo` (views, tickets, sagas, KV stores) or `runnel init`
/// (empty), in-process with the sample catalog, and removed with the value.
final class DashboardHome: Sendable {
    let temporary: TemporaryHome
    var home: RunnelHome { temporary.home }

    /// Runs `runnel demo` (or `init` when `demo` is false) into a new temporary home.
    ///
    /// On a thread of its own: `demo` blocks on SQLite for seconds, and holding one of the few
    /// threads of the cooperative pool that long would stall every other test in the process.
    init(demo: Bool = true) async throws {
        let temporary = try TemporaryHome(label: "dashboard")
        self.temporary = temporary
        let errors = Mutex("")
        let console = Console(output: { _ in }, error: { text in errors.withLock { $0 += text } })
        let status = try await ServiceThread.run(named: "dashboard-test-home") {
            await RunnelCommand.run([demo ? "demo" : "init", "--home", temporary.home.url.path],
                                    catalog: SampleCatalog.catalog, console: console)
        }
        guard status == 0 else {
            throw RunnelError(.home, "`runnel \(demo ? "demo" : "init")` failed with \(status): \(errors.withLock { $0 })")
        }
    }

    /// A dashboard over the home.
    func dashboard(access: DashboardAccess? = nil, metrics: (@Sendable () -> String)? = nil) throws -> Dashboard {
        try Dashboard(home: home, catalog: SampleCatalog.catalog, access: access ?? DashboardAccess(), metrics: metrics,
                      logger: Logger(label: "dashboard-test"))
    }

    /// Runs `body` with a test client of the dashboard's router.
    func withClient<T: Sendable>(access: DashboardAccess? = nil, metrics: (@Sendable () -> String)? = nil,
                                 _ body: @escaping @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        let app = Application(router: try dashboard(access: access, metrics: metrics).makeRouter())
        return try await app.test(.router, body)
    }

    /// Reads `derived.sqlite` or `app.sqlite` directly, read-only, for comparing with the API.
    func read<T>(_ role: DatabaseRole, _ body: (Database) throws -> T) throws -> T {
        try Store.openReadOnly(home, role).read(body)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The body as JSON.
    func json() throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    /// The body as a JSON object.
    func object() throws -> [String: Any] {
        guard let object = try json() as? [String: Any] else {
            throw RunnelError(.invalidArgument, "the response is not a JSON object: \(text.prefix(200))")
        }
        return object
    }
}
