#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Runnel

/// Pauses at the library's fault points, for crash tests: the test-only `runnel-fault-child`
/// executable installs them from environment variables, each giving a pause's length in
/// microseconds, and announces each pause on standard error (`runnel-fault: pausing <moment>`,
/// then `runnel-fault: resumed <moment>`) so a test can SIGKILL it exactly there. The `runnel`
/// executable never reads these variables.
package enum FaultPauses {
    /// Each variable and the moment it pauses at.
    package static let variables: [String: String] = [
        "RUNNEL_FAULT_RELAY_PAUSE_US": "relay-after-append-before-delete",
        "RUNNEL_FAULT_RELAY_PARTITION_PAUSE_US": "relay-between-partition-appends",
        "RUNNEL_FAULT_MIRROR_PAUSE_US": "mirror-after-delivery-before-store",
        "RUNNEL_FAULT_KV_PAUSE_BEFORE_CURRENT_US": "kv-after-rename-before-current",
        "RUNNEL_FAULT_SCHEDULE_JOB_PAUSE_US": "schedule-claimed-before-job",
        "RUNNEL_FAULT_NOTIFY_SENT_PAUSE_US": "notify-sent-before-commit",
        "RUNNEL_FAULT_NOTIFY_APPENDED_PAUSE_US": "notify-appended-before-commit",
        "RUNNEL_FAULT_HANDLER_PAUSE_US": "handler-before-commit",
        "RUNNEL_FAULT_SAGA_PAUSE_US": "saga-before-commit",
    ]

    /// The line a child writes to standard error when it starts pausing at `moment`.
    package static func pausingLine(_ moment: String) -> String { "runnel-fault: pausing \(moment)" }
    /// The line it writes when the pause at `moment` is over.
    package static func resumedLine(_ moment: String) -> String { "runnel-fault: resumed \(moment)" }

    /// Installs the pauses the environment asks for. Call first thing in `main`, before any
    /// thread or task starts.
    /// - Throws: ``RunnelError`` `.invalidArgument` for a value that is not a number of microseconds.
    package static func install(from environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        var pauses: [String: UInt32] = [:]
        for (variable, moment) in variables {
            guard let text = environment[variable] else { continue }
            guard let microseconds = UInt32(text) else {
                throw RunnelError(.invalidArgument, "\(variable)=\(text) is not a number of microseconds")
            }
            if microseconds > 0 { pauses[moment] = microseconds }
        }
        guard !pauses.isEmpty else { return }
        FaultPoint.hook = { [pauses] moment in
            guard let microseconds = pauses[moment] else { return }
            announce(pausingLine(moment))
            usleep(microseconds)
            announce(resumedLine(moment))
        }
    }

    private static func announce(_ line: String) {
        // One write(2) per line, so a kill never leaves half a line.
        var bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}
