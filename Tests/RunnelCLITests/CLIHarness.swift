import Foundation
import Pipelines
import Runnel
import RunnelCLI

/// What one in-process `runnel` invocation printed and returned.
struct Invocation {
    var status: Int32
    var output: String
    var error: String

    var outputLines: [Substring] { output.split(separator: "\n") }
}

/// Collects console output across threads.
final class Transcript: @unchecked Sendable {
    // @unchecked: `output` and `error` are only touched under `lock`.
    private let lock = NSLock()
    private var output = ""
    private var error = ""

    var console: Console {
        Console(output: { text in self.lock.withLock { self.output += text } },
                error: { text in self.lock.withLock { self.error += text } })
    }

    var texts: (String, String) { lock.withLock { (output, error) } }
}

/// Runs the command line in-process with the sample catalog.
func runnel(_ arguments: String...) async -> Invocation {
    await runnel(arguments)
}

/// Runs the command line in-process, with the sample catalog or another.
func runnel(_ arguments: [String], catalog: Catalog = SampleCatalog.catalog) async -> Invocation {
    let transcript = Transcript()
    let status = await RunnelCommand.run(arguments, catalog: catalog, console: transcript.console)
    let (output, error) = transcript.texts
    return Invocation(status: status, output: output, error: error)
}
