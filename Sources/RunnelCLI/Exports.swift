// An application's own subcommands are swift-argument-parser commands; importing RunnelCLI
// brings its types, so the application need not declare the package itself.
@_exported import ArgumentParser
