import Foundation
import Logging
@testable import RunnelCLI
import Testing

/// `runnel up`'s options and its JSON log lines.
@Suite struct UpOptionsTests {
    @Test func onlyTakesTheNamedPartsAndRefusesOthers() async {
        let unknown = await runnel("up", "--only", "relay,pipelnes")
        #expect(unknown.status == 64)
        #expect(unknown.error.contains("--only takes relay, pipelines, handlers, sagas, scheduler, notify, dashboard, not pipelnes"), "\(unknown.error)")
        let delays = await runnel("up", "--restart-delay", "5", "--max-restart-delay", "1")
        #expect(delays.status == 64)
        #expect(delays.error.contains("--max-restart-delay at least --restart-delay"), "\(delays.error)")
    }

    @Test func aJSONLogLineIsOneObjectWithItsMetadata() throws {
        final class Lines: @unchecked Sendable {
            var all: [String] = []
        }
        let lines = Lines()
        var handler = JSONLogHandler(label: "runnel.relay") { lines.all.append($0) }
        handler.logLevel = .info
        handler[metadataKey: "home"] = "/tmp/h"
        let logger = Logger(label: "runnel.relay") { _ in handler }
        logger.debug("not written")
        logger.info("relay progress", metadata: ["relay.backlog.rows": "3", "quote": "say \"hi\"\n", "list": ["a", "b"]])
        #expect(lines.all.count == 1)
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix("}\n") && line.dropLast().contains("\n") == false)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "info")
        #expect(object["logger"] as? String == "runnel.relay")
        #expect(object["message"] as? String == "relay progress")
        #expect(object["pid"] as? Int == Int(getpid()))
        #expect((object["time"] as? String)?.hasSuffix("Z") == true)
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(metadata["relay.backlog.rows"] as? String == "3")
        #expect(metadata["quote"] as? String == "say \"hi\"\n")
        #expect(metadata["list"] as? [String] == ["a", "b"])
        #expect(metadata["home"] as? String == "/tmp/h")
    }
}
