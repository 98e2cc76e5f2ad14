import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import HummingbirdTesting
import Logging
import Pipelines
import Runnel
import RunnelTesting
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
            // A real request on that port (a plain socket, on a thread of its own: it blocks).
            let response = try await ServiceThread.run(named: "dashboard-test-client") { try Self.get("/api/status", port: port) }
            #expect(response.hasPrefix("HTTP/1.1 200 OK"), "\(response.prefix(200))")
            #expect(response.contains("\"home\":\"\(home.home.url.path.replacingOccurrences(of: "/", with: "\\/"))\""), "\(response.prefix(400))")
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

    @Test func serveRefusesAnExposedAddressWithoutAToken() async throws {
        let home = try await DashboardHome(demo: false)
        let errors = Mutex("")
        let console = Console(output: { _ in }, error: { text in errors.withLock { $0 += text } })
        let status = await RunnelCommand.run(["serve", "--host", "0.0.0.0", "--port", "0", "--home", home.home.url.path],
                                             catalog: SampleCatalog.catalog, console: console)
        #expect(status == 1)
        #expect(errors.withLock { $0 }.contains("which is not a loopback address, without a token"))
    }

    /// `GET path` over a plain TCP connection to 127.0.0.1, the whole response as text.
    static func get(_ path: String, port: Int) throws -> String {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(socket >= 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0, "cannot connect to 127.0.0.1:\(port)")
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        try #require(request.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, 0) } == request.count)
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            response += buffer[0..<count]
        }
        return String(decoding: response, as: UTF8.self)
    }
}
