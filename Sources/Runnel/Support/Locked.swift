import Foundation

/// A value that threads share behind a POSIX mutex (Foundation's `NSLock`).
///
/// Not `Synchronization.Mutex`: on Linux it hands a contended lock over with futex system calls
/// that ThreadSanitizer does not see, so TSan reports races between its critical sections and
/// the concurrency suites could not run under it. A pthread mutex TSan intercepts, and
/// uncontended it costs about the same (measured by `runnel-bench kv-lookup`).
final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with the value, holding the lock.
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
