import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting
import Testing

/// The advice printed after a failed `runnel sample load`, followed literally, finishes the load
/// with the same outbox a clean load gives; a file whose loaded lines changed is refused.
@Suite struct SampleLoadAdviceTests {
    static let broken = #"{"op":"teleport","at":1767600000000}"#

    /// The committed sample file with line `number` (from 1) replaced by a bad operation.
    static func brokenCopy(breaking number: Int, in temporary: TemporaryHome) throws -> (URL, [String]) {
        let lines = try String(contentsOf: NetworkDataSet().committedFile, encoding: .utf8).split(separator: "\n").map(String.init)
        var changed = lines
        changed[number - 1] = broken
        let file = temporary.folder.appendingPathComponent("network-copy.jsonl")
        try Data((changed.joined(separator: "\n") + "\n").utf8).write(to: file)
        return (file, lines)
    }

    /// Every outbox event in id order, without ids and append times.
    static func outbox(_ home: RunnelHome) throws -> [String] {
        try Store.openReadOnly(home, .app).read { db in
            try Row.fetchAll(db, sql: "SELECT topic, key, type, payload, event_time FROM runnel_outbox ORDER BY id").map { "\($0)" }
        }
    }

    @Test(arguments: [3, 1_203])
    func theAdviceAfterABadLineFollowedLiterallyFinishesTheLoad(_ badLine: Int) async throws {
        let clean = try TemporaryHome(label: "clean")
        #expect(await runnel("migrate", "--home", clean.home.url.path).status == 0)
        #expect(await runnel("sample", "load", "--home", clean.home.url.path).status == 0)

        let temporary = try TemporaryHome(label: "advice")
        let (file, original) = try Self.brokenCopy(breaking: badLine, in: temporary)
        let load = ["sample", "load", "--file", file.path, "--home", temporary.home.url.path]
        #expect(await runnel("migrate", "--home", temporary.home.url.path).status == 0)
        let failed = await runnel(load)
        #expect(failed.status == 1)
        #expect(failed.error.contains("network-copy.jsonl line \(badLine): "), "\(failed.error)")

        // Step 1: "Correct line N of FILE" — the line and the file are taken from the message.
        let advice = try #require(failed.error.firstMatch(of: /Correct line (\d+) of (\S+?)(,| and)/), "\(failed.error)")
        let (line, path) = (try #require(Int(advice.output.1)), String(advice.output.2))
        #expect(line == badLine)
        #expect(path == file.path)
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[line - 1] = original[line - 1]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        // Step 2: "run the same `runnel sample load` again".
        #expect(failed.error.contains("run the same `runnel sample load` again"))
        let again = await runnel(load)
        #expect(again.status == 0, "\(again.error)")
        #expect(try Self.outbox(temporary.home) == Self.outbox(clean.home))
        #expect(await runnel(load).output.contains("already loaded"))
    }

    @Test func aFileWhoseLoadedLinesChangedIsRefusedAndChangesNothing() async throws {
        let temporary = try TemporaryHome(label: "advice")
        let (file, _) = try Self.brokenCopy(breaking: 1_203, in: temporary)
        let load = ["sample", "load", "--file", file.path, "--home", temporary.home.url.path]
        #expect(await runnel("migrate", "--home", temporary.home.url.path).status == 0)
        #expect(await runnel(load).status == 1)
        let before = try Self.outbox(temporary.home)
        #expect(before.count > 0)

        var lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[9] = lines[9].replacingOccurrences(of: "\"at\":", with: "\"at\":1")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: file)
        let refused = await runnel(load)
        #expect(refused.status == 1)
        #expect(refused.error.contains("already holds 1000 lines of a different network data set"), "\(refused.error)")
        #expect(try Self.outbox(temporary.home) == before)
    }
}
