import ArgumentParser
import Foundation
import Pipelines
import Runnel
import RunnelCLI
import RunnelTesting
import Testing

/// An application's own subcommand, as an app would write one: it takes `--home`, reads the
/// catalog and writes through the console of the command line that runs it.
struct CountMembersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "count-members", abstract: "Count the network's members.")

    @OptionGroup var home: HomeOptions

    func run() throws {
        let context = CLIContext.current
        let store = try Store.open(home.resolved)
        let members = try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM members") ?? 0 }
        context.console.print("\(context.catalog.name): \(members) members")
    }
}

/// The command line is the application's: its own subcommands sit beside Runnel's, and the
/// program carries what it needs, so a copy runs with the checkout out of reach.
@Suite struct AppCommandLineTests {
    @Test func anAppSubcommandIsListedInHelpAndRuns() async throws {
        let temporary = try TemporaryHome(label: "app-command")
        let transcript = Transcript()
        let commands: [any ParsableCommand.Type] = [CountMembersCommand.self]
        let help = await RunnelCommand.run(["--help"], catalog: SampleCatalog.catalog, console: transcript.console,
                                           programName: "shopctl", commands: commands)
        #expect(help == 0)
        #expect(transcript.texts.0.contains("count-members"), "\(transcript.texts.0)")

        let home = temporary.home.url.path
        for step in [["init"], ["migrate"], ["sample", "load"]] {
            let status = await RunnelCommand.run(step + ["--home", home], catalog: SampleCatalog.catalog, console: Transcript().console, commands: commands)
            #expect(status == 0, "\(step)")
        }
        let output = Transcript()
        let status = await RunnelCommand.run(["count-members", "--home", home], catalog: SampleCatalog.catalog, console: output.console,
                                             programName: "shopctl", commands: commands)
        #expect(status == 0, "\(output.texts.1)")
        #expect(output.texts.0 == "sample professional network: 100 members\n")

        // Without the app's commands the name is a usage error, as any unknown subcommand is.
        let unknown = await RunnelCommand.run(["count-members", "--home", home], catalog: SampleCatalog.catalog, console: Transcript().console)
        #expect(unknown == 64)
    }

    /// A `runnel` copied out of the build runs `demo` in a mount namespace where the whole
    /// checkout (sources, `migrations/`, `sample-data/`, `.build/`) is hidden under an empty
    /// folder: migrations and the sample data travel inside the program.
    @Test func aCopiedProgramRunsTheDemoWithTheCheckoutOutOfReach() throws {
        let temporary = try TemporaryHome(label: "moved-binary")
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let elsewhere = temporary.folder.appendingPathComponent("bin", isDirectory: true)
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let copy = elsewhere.appendingPathComponent("shopctl")
        try FileManager.default.copyItem(at: ChildProcess.runnel, to: copy)
        #expect(!temporary.folder.path.hasPrefix(checkout.path + "/"), "the copy must live outside the checkout")

        let hidden = try Self.run("/usr/bin/unshare", ["--mount", "sh", "-c", "mount -t tmpfs tmpfs \"$0\" && ls -A \"$0\"", checkout.path])
        try #require(hidden.status == 0 && hidden.output.isEmpty,
                     "this test hides the checkout with `unshare --mount` and a tmpfs (root, or a user namespace, is needed): \(hidden.error)")

        let demo = try Self.run("/usr/bin/unshare", ["--mount", "sh", "-c", "mount -t tmpfs tmpfs \"$0\" && cd / && exec \"$1\" demo --home \"$2\"",
                                                      checkout.path, copy.path, temporary.home.url.path])
        #expect(demo.status == 0, "\(demo.error)")
        #expect(demo.output.contains("Applied 6 migrations from migrations embedded in the build"), "\(demo.output)")
        #expect(demo.output.contains("operations from the built-in network data set"), "\(demo.output)")
        #expect(demo.output.contains("shopctl inspect table"), "\(demo.output)")
    }

    /// Runs a program to its end, its output and errors written to files (pipes nobody reads
    /// while it runs could fill and stall it).
    private static func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("runnel-moved-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outputFile = folder.appendingPathComponent("out")
        let errorFile = folder.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOf: outputFile, encoding: .utf8), try String(contentsOf: errorFile, encoding: .utf8))
    }
}
