import Hummingbird
import RunnelServer
import ServiceLifecycle

/// The dashboard of `runnel up`: its application, with a listening failure (a port in use) said
/// the way `runnel serve` says it, in the log line of each restart.
struct DashboardService: Service {
    let application: Application<RouterResponder<BasicRequestContext>>
    let dashboard: Dashboard

    func run() async throws {
        do {
            try await application.run()
        } catch {
            throw dashboard.listeningError(error)
        }
    }
}
