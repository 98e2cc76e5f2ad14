#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A pause at a named moment of a multi-step write, for crash tests only: an environment
/// variable gives its length in microseconds, and the process announces the pause on standard
/// error (`runnel-fault: pausing <moment>`, then `runnel-fault: resumed <moment>`), so a test
/// can SIGKILL it exactly there. The variable is read once; unset, a pause costs one load and a
/// branch. The variables are listed in `docs/operations.md`.
package struct FaultPause: Sendable {
    /// The line a process writes to standard error when it starts pausing at `moment`.
    package static func pausingLine(_ moment: String) -> String { "runnel-fault: pausing \(moment)" }
    /// The line it writes when the pause at `moment` is over.
    package static func resumedLine(_ moment: String) -> String { "runnel-fault: resumed \(moment)" }

    /// The moment's name, as the announcements spell it.
    package let moment: String
    /// The pause's length; zero when the variable is unset.
    package let microseconds: UInt32

    package init(_ variable: String, moment: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.moment = moment
        microseconds = environment[variable].flatMap(UInt32.init) ?? 0
    }

    /// Pauses, if set, announcing the start and the end.
    @inline(__always)
    package func pause() {
        guard microseconds > 0 else { return }
        Self.announce(Self.pausingLine(moment))
        usleep(microseconds)
        Self.announce(Self.resumedLine(moment))
    }

    private static func announce(_ line: String) {
        // One write(2) per line, so a kill never leaves half a line.
        var bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}
