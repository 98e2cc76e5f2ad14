import Foundation
import Logging
import ServiceLifecycle

/// Reads every pipeline's lag every ``interval`` into a ``LagHistory``, for the pipelines page's
/// charts. A `Service`: it runs beside the HTTP server and stops on graceful shutdown.
struct LagSampler: Service {
    let databases: DashboardDatabases
    let history: LagHistory
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await sample()
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One reading; a failure is logged and the next reading tries again.
    func sample() async {
        do {
            let status = try await databases.blocking { [databases] in try databases.status.read() }
            history.record(status.pipelines.map { ($0.name, $0.lagEvents) }, at: status.readAt)
        } catch is CancellationError {
            // Shutting down: the reading was not needed any more.
        } catch {
            logger.warning("the dashboard could not read the pipelines' lag", metadata: ["dashboard.error": "\(error)"])
        }
    }
}
