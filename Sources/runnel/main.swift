import Pipelines
import RunnelCLI

// The `runnel` executable: the command line with the sample network's catalog.
await RunnelCommand.main(catalog: SampleCatalog.catalog)
