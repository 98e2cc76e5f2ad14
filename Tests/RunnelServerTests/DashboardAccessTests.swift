import Runnel
import RunnelServer
import Testing

@Suite struct DashboardAccessTests {
    @Test func loopbackNeedsNoToken() throws {
        for host in ["127.0.0.1", "localhost", "::1", "127.0.0.2"] {
            let access = try DashboardAccess(host: host, port: 8080)
            #expect(access.admits(authorization: nil))
        }
    }

    @Test func anotherAddressWithoutATokenIsRefused() {
        #expect(throws: RunnelError.self) { try DashboardAccess(host: "0.0.0.0", port: 8080) }
        #expect(throws: RunnelError.self) { try DashboardAccess(host: "192.168.1.4", port: 8080) }
    }

    @Test func aTokenIsRequiredOnEveryRequest() throws {
        let access = try DashboardAccess(host: "0.0.0.0", port: 8080, token: "0123456789abcdef0123")
        #expect(access.admits(authorization: "Bearer 0123456789abcdef0123"))
        #expect(!access.admits(authorization: nil))
        #expect(!access.admits(authorization: "Bearer 0123456789abcdef012"))
        #expect(!access.admits(authorization: "Bearer 0123456789abcdef01234"))
        #expect(!access.admits(authorization: "Basic 0123456789abcdef0123"))
    }

    @Test func shortTokensAndBadPortsAreRefused() {
        #expect(throws: RunnelError.self) { try DashboardAccess(host: "0.0.0.0", port: 8080, token: "short") }
        #expect(throws: RunnelError.self) { try DashboardAccess(host: "127.0.0.1", port: 70_000) }
    }
}
