import ArgumentParser
import Runnel

/// `runnel init`: create the home and its databases.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a Runnel home: app.sqlite and derived.sqlite (WAL, foreign keys on) with Runnel's own tables.",
        discussion: "Safe to run again: an existing home is opened and brought up to date, nothing is lost.")

    @OptionGroup var home: HomeOptions

    func run() throws {
        let home = home.resolved
        let existed = home.isInitialized
        _ = try Store.open(home)
        let console = CLIContext.current.console
        console.print(existed ? "Runnel home at \(home.url.path) is ready (it already existed)." : "Created a Runnel home at \(home.url.path).")
        console.print("Next: \(CLIContext.current.programName) migrate\(self.home.hintFlag)")
    }
}
