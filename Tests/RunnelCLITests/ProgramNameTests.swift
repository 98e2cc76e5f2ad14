import Foundation
import Pipelines
import Runnel
import RunnelCLI
import RunnelTesting
import Testing

/// The command line is the app's: usage, help and hints name the program that runs, and the
/// demo's hints come from what the home holds.
@Suite struct ProgramNameTests {
    private func run(_ arguments: [String], programName: String) async -> (Int32, String, String) {
        let transcript = Transcript()
        let status = await RunnelCommand.run(arguments, catalog: SampleCatalog.catalog, console: transcript.console, programName: programName)
        let (output, error) = transcript.texts
        return (status, output, error)
    }

    @Test func helpAndHintsNameTheProgram() async throws {
        let (status, help, _) = await run(["--help"], programName: "shopctl")
        #expect(status == 0)
        #expect(help.contains("USAGE: shopctl <subcommand>"), "\(help)")
        #expect(help.contains("Start with `shopctl demo`"))
        #expect(!help.contains("runnel demo"))

        let temporary = try TemporaryHome(label: "program-name")
        let (initialized, output, _) = await run(["init", "--home", temporary.home.url.path], programName: "shopctl")
        #expect(initialized == 0)
        #expect(output.contains("Next: shopctl migrate"), "\(output)")
    }

    @Test func theDemosHintsComeFromTheHome() async throws {
        let temporary = try TemporaryHome(label: "program-demo")
        let (status, output, error) = await run(["demo", "--home", temporary.home.url.path], programName: "shopctl")
        #expect(status == 0, "\(error)")
        let hints = try #require(output.components(separatedBy: "Try next:").last)
        #expect(hints.contains("shopctl inspect table member_engagement_5m --db derived --limit 5"), "\(hints)")
        #expect(hints.contains("shopctl kv versions member-features"))
        #expect(!hints.contains("runnel "))
    }

    @Test func errorsAndHelpTellTheUserToTypeTheAppsProgram() async throws {
        let temporary = try TemporaryHome(label: "program-errors")
        let home = temporary.home.url.path
        #expect(await run(["init", "--home", home], programName: "shopctl").0 == 0)
        let (status, _, error) = await run(["sample", "load", "--home", home], programName: "shopctl")
        #expect(status == 1)
        #expect(error.contains("Run `shopctl migrate --home \(home)` first"), "\(error)")
        let (_, help, _) = await run(["sample", "load", "--help"], programName: "shopctl")
        #expect(help.contains("Run `shopctl migrate` first"), "\(help)")
        #expect(!help.contains("runnel migrate"))
    }
}
