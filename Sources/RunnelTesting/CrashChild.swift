import Foundation
import Runnel

/// A child `runnel` process of one crash-test round (`runnel-fault-child`, which is `runnel` with
/// fault pauses), its standard error captured so the test can aim the kill at a pause
/// (`runnel-fault: pausing <moment>`, see ``FaultPauses``), prove that the child died of the
/// signal, and say what the kill interrupted.
///
/// ```swift
/// let child = try CrashChild(["relay", "--follow", "--home", home], environment: ["RUNNEL_FAULT_RELAY_PAUSE_US": "20000"])
/// #expect(child.waitForLine("runnel-fault: pausing relay-after-append-before-delete"))
/// child.kill()
/// #expect(child.diedOfSIGKILL)
/// ```
package final class CrashChild: @unchecked Sendable {
    // @unchecked: `output` and `closed` are only touched holding `condition`.
    /// The running child.
    package let process: Process
    private let condition = NSCondition()
    private var output = ""
    private var closed = false

    /// Starts `runnel-fault-child` with `arguments`, environment variables set on top of this process's.
    package init(_ arguments: [String], environment: [String: String] = [:], standardOutput: Pipe? = nil) throws {
        let pipe = Pipe()
        process = try ChildProcess.launch(arguments, executable: ChildProcess.faultChild, environment: environment,
                                          standardOutput: standardOutput, standardError: pipe)
        // A thread of its own reads the pipe with blocking reads until the child's end closes.
        // Not `readabilityHandler`: its dispatch read source, cancelled from inside its own
        // handler while the descriptor closes, once crashed libdispatch's event loop (signal 11
        // in `_dispatch_event_loop_drain`) while a crash test waited for its child.
        let reader = pipe.fileHandleForReading
        let thread = Thread { [self] in
            let descriptor = reader.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: 4_096)
            while true {
                let count = buffer.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                condition.lock()
                if count <= 0 {
                    closed = true
                } else {
                    output += String(decoding: buffer[..<count], as: UTF8.self)
                }
                condition.broadcast()
                condition.unlock()
                if count <= 0 { break }
            }
            try? reader.close()
        }
        thread.name = "runnel.crash-child-output"
        thread.start()
    }

    /// Everything the child wrote to standard error so far.
    package var standardError: String {
        condition.lock()
        defer { condition.unlock() }
        return output
    }

    /// Waits until the child writes a line containing `text`; false when it exits or `timeout`
    /// seconds pass first.
    package func waitForLine(_ text: String, timeout: TimeInterval = 60) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while !output.contains(text) {
            if closed || !condition.wait(until: deadline) { return output.contains(text) }
        }
        return true
    }

    /// Sends `signal` (SIGKILL by default) and waits for the child's exit and the end of its output.
    package func kill(_ signal: Int32 = SIGKILL) {
        _ = Foundation.kill(process.processIdentifier, signal)
        waitUntilExit()
    }

    /// Waits for the child's exit and the end of its output.
    package func waitUntilExit() {
        process.waitUntilExit()
        condition.lock()
        let deadline = Date().addingTimeInterval(10)
        while !closed, condition.wait(until: deadline) {}
        condition.unlock()
    }

    /// Whether the child ended by SIGKILL (not by exiting, nor by another signal such as a trap).
    package var diedOfSIGKILL: Bool {
        process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
    }

    /// How the child ended, for messages.
    package var termination: String {
        process.terminationReason == .uncaughtSignal ? "signal \(process.terminationStatus)" : "exit \(process.terminationStatus)"
    }

    /// The fault pause the child was in when it ended (it announced the pause and not its end),
    /// or nil.
    package var interruptedPause: String? {
        let lines = standardError.split(separator: "\n").filter { $0.hasPrefix("runnel-fault: ") }
        guard let last = lines.last, last.hasPrefix("runnel-fault: pausing ") else { return nil }
        return String(last.dropFirst("runnel-fault: pausing ".count))
    }

    /// How many lines of standard error contain `text`.
    package func count(_ text: String) -> Int {
        standardError.components(separatedBy: text).count - 1
    }

    /// Runs `runnel-fault-child` with `arguments` to its end: the child (exited, its standard
    /// error read) and what it printed on standard output.
    package static func runToEnd(_ arguments: [String], environment: [String: String] = [:]) throws -> (child: CrashChild, output: String) {
        let output = Pipe()
        let child = try CrashChild(arguments, environment: environment, standardOutput: output)
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        return (child, printed.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Kills the child with SIGKILL inside a fault pause (once it announces `moment`, after a
    /// random part of the first quarter of the pause's `pauseMicroseconds`) or, without a
    /// moment, after a random delay in `delayMicroseconds`.
    /// - Returns: Whether the child reached the pause (always true without one).
    @discardableResult
    package func kill(at moment: String?, pauseMicroseconds: Int, orAfter delayMicroseconds: Range<Int>, random: inout SeededGenerator) -> Bool {
        var reached = true
        if let moment {
            reached = waitForLine(FaultPauses.pausingLine(moment))
            usleep(UInt32(random.below(max(1, pauseMicroseconds / 4))))
        } else {
            usleep(UInt32(delayMicroseconds.lowerBound + random.below(max(1, delayMicroseconds.count))))
        }
        kill()
        return reached
    }
}

extension Dictionary where Key == String, Value == Int {
    /// `moment-a ×4, moment-b ×2`: where a crash test's kills landed, for its summary line.
    package var killTally: String {
        sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
    }
}
