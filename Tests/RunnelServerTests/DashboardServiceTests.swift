import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Pipelines
import Runnel
import RunnelCLI
import RunnelServer
import ServiceLifecycle
import Synchronization
import Testing

/// The dashboard as a service among others: a real port when asked for port 0, requests served
/// on it, and a clean stop on graceful shutdown; and `runnel serve`'s refusal of an exposed
/// address without a token.
@Suite struct DashboardServiceTests {
    @Test func portZeroReportsTheRealPortAndShutdownStopsIt() async throws {
        let home = try await DashboardHome(demo: false)
        let dashboard = try home.dashboard(access: DashboardAccess(host: "127.0.0.1", port: 0))
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = dashboard.makeApplication { port in continuation.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "dashboard-test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            #expect(port > 0)
            await group.triggerGracefulShutdown()
            // `run()` returns (without an error) once the server and the lag sampler have stopped.
            try await tasks.next()
        }
    }

    @Test func aPortInUseIsReportedAsSuch() async throws {
        let home = try await DashboardHome(demo: false)
        let first = try home.dashboard(access: DashboardAccess(host: "127.0.0.1", port: 0))
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let group = ServiceGroup(configuration: .init(services: [first.makeApplication { continuation.yield($0) }], logger: Logger(label: "dashboard-test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let second = try home.dashboard(access: DashboardAccess(host: "127.0.0.1", port: port))
            let secondGroup = ServiceGroup(configuration: .init(services: [second.makeApplication()], logger: Logger(label: "dashboard-test")))
            do {
                try await secondGroup.run()
                Issue.record("a second dashboard listened on port \(port)")
            } catch {
                let reported = "\(second.listeningError(error))"
                #expect(reported.contains("cannot listen on 127.0.0.1:\(port): another process listens there"), "\(reported)")
            }
            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
    }

    @Test func theApplicationServesOnARealSocket() async throws {
        let home = try await DashboardHome(demo: false)
        let dashboard = try home.dashboard(access: DashboardAccess(host: "127.0.0.1", port: 0))
        try await dashboard.makeApplication().test(.live) { client in
            try await client.execute(uri: "/api/status", method: .get) { response in
                #expect(response.status == .ok)
                let status = try JSONDecoder.snakeCase.decode(HomeStatus.self, from: Data(String(buffer: response.body).utf8))
                #expect(status.home == home.home.url.path)
            }
            try await client.execute(uri: "/views", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
            }
        }
    }

    @Test func serveRefusesAnExposedAddressWithoutAToken() async throws {
        let home = try await DashboardHome(demo: false)
        let errors = Mutex("")
        let console = Console(output: { _ in }, error: { text in errors.withLock { $0 += text } })
        let status = await RunnelCommand.run(["serve", "--host", "0.0.0.0", "--port", "0", "--home", home.home.url.path],
                                             catalog: SampleCatalog.catalog, console: console)
        #expect(status == 1)
        #expect(errors.withLock { $0 }.contains("which is not a loopback address, without a token"))
    }
}
