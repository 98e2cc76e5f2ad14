import Foundation
import Pipelines
import RunnelCLI
import RunnelTesting

// `runnel` with the crash tests' fault pauses installed (see `FaultPauses`): a test-only
// executable, so the `runnel` that users run never reads fault-injection variables.
do {
    try FaultPauses.install()
} catch {
    FileHandle.standardError.write(Data("runnel-fault-child: \(error)\n".utf8))
    exit(2)
}
await RunnelCommand.main(catalog: SampleCatalog.catalog)
