import Foundation

/// A blocking loop on a thread of its own (a reader polling the log or a table), so that it
/// never takes one of the few threads Swift concurrency runs tasks on.
///
/// ```swift
/// let reader = BackgroundThread(name: "reader") { try follow(partition) }
/// …
/// try reader.join()
/// ```
final class BackgroundThread: @unchecked Sendable {
    // @unchecked: `failure` is written by the thread before it signals `done`, and read only
    // after waiting on `done`.
    private let done = DispatchSemaphore(value: 0)
    private var failure: (any Error)?

    /// Starts `body` on a new thread.
    init(name: String, _ body: @escaping @Sendable () throws -> Void) {
        let thread = Thread { [self] in
            do { try body() } catch { failure = error }
            done.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Waits for the body to return.
    /// - Throws: What the body threw.
    func join() throws {
        done.wait()
        if let failure { throw failure }
    }
}

/// An async service (``RelayService``) run in a task from synchronous code, until cancelled.
final class BackgroundTask: @unchecked Sendable {
    // @unchecked: `failure` is written by the task before it signals `done`, and read only after
    // waiting on `done`; `task` is set once in init.
    private let done = DispatchSemaphore(value: 0)
    private var failure: (any Error)?
    private var task: Task<Void, Never>?

    /// Starts `body` in a detached task.
    init(_ body: @escaping @Sendable () async throws -> Void) {
        task = Task.detached { [self] in
            do { try await body() } catch { failure = error }
            done.signal()
        }
    }

    /// Waits for the task to return by itself.
    /// - Throws: What the body threw.
    func join() throws {
        done.wait()
        if let failure { throw failure }
    }

    /// Cancels the task and waits for it to return.
    /// - Throws: What the body threw.
    func cancelAndJoin() throws {
        task?.cancel()
        done.wait()
        if let failure { throw failure }
    }
}
