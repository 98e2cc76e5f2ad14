import Foundation
import RunnelTesting

extension ChildProcess {
    /// Starts `runnel` with its standard error written to a file (a pipe nobody reads can fill
    /// and stall a chatty child), so a test can show what a child said when it fails.
    static func launch(_ arguments: [String], executable: URL = runnel, standardErrorTo file: URL) throws -> Process {
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: file)
        try process.run()
        return process
    }

    /// What a child wrote to its standard-error file.
    static func text(of file: URL) -> String {
        (try? String(contentsOf: file, encoding: .utf8)) ?? ""
    }
}
