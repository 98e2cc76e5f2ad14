import Foundation

/// Starts the `runnel` executable as a child process, for crash tests that kill it with SIGKILL
/// and for tests of the built binary.
///
/// The executable is found beside the running test bundle (SwiftPM builds executables a test
/// target depends on into the same folder).
package enum ChildProcess {
    /// The `runnel` executable built beside the running test bundle.
    package static var runnel: URL { besideTests("runnel") }

    /// `runnel-fault-child`: `runnel` with the fault pauses the environment asks for installed
    /// (``FaultPauses``), for crash tests that aim a kill inside a multi-step write.
    package static var faultChild: URL { besideTests("runnel-fault-child") }

    private static func besideTests(_ name: String) -> URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent(name)
    }

    /// Starts `runnel` with arguments, output discarded unless pipes are given.
    /// - Parameters:
    ///   - arguments: The command line, without the program name.
    ///   - executable: The program: ``runnel`` unless told otherwise.
    ///   - environment: Variables to set on top of this process's environment.
    ///   - folder: The working folder.
    ///   - standardOutput: Where the child's standard output goes (discarded by default).
    ///   - standardError: Where the child's standard error goes (discarded by default).
    package static func launch(
        _ arguments: [String], executable: URL = runnel, environment: [String: String] = [:], in folder: URL? = nil,
        standardOutput: Pipe? = nil, standardError: Pipe? = nil
    ) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let folder { process.currentDirectoryURL = folder }
        process.standardOutput = standardOutput ?? FileHandle.nullDevice
        process.standardError = standardError ?? FileHandle.nullDevice
        try process.run()
        return process
    }
}
