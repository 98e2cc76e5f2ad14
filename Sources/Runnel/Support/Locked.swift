#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value that threads share behind a default POSIX mutex.
///
/// Not `Synchronization.Mutex`: on Linux it hands a contended lock over with futex system calls
/// that ThreadSanitizer does not see, so TSan reports races between its critical sections and
/// the concurrency suites could not run under it. A pthread mutex TSan intercepts. The box
/// costs a few tens of nanoseconds more than a mutex held in place (see `KVStore`), so hot
/// paths hold their own.
final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched holding `mutex`.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    init(_ value: Value) {
        self.value = value
        mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let status = pthread_mutex_init(mutex, nil)
        precondition(status == 0, "pthread_mutex_init failed: \(status)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value, holding the lock.
    @inline(__always)
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
