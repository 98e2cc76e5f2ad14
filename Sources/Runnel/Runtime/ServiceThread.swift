import Foundation

/// A thread of its own for one long-running service, as a task executor: the service's task
/// runs on it (``run(named:_:)``), so the blocking SQLite and file work of its batches never
/// holds a thread of Swift's cooperative pool, and a pool kept busy by other work cannot delay
/// the service's next batch.
///
/// Between batches the service suspends (see ``ChangeSignal``); the thread then sleeps on a
/// condition and costs nothing.
package final class ServiceThread: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` and `state` are guarded by `condition`.
    private enum State { case running, stopping, stopped }

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var state = State.running

    private init(name: String) {
        let thread = Thread { [self] in runJobs() }
        thread.name = name
        thread.start()
    }

    /// Runs `body` on a new thread named `name`, as the task's executor preference: every
    /// job of the task (and of its child tasks) runs there until `body` returns; the thread
    /// then ends.
    package static func run<T>(named name: String, _ body: () async throws -> T) async throws -> T {
        let executor = ServiceThread(name: name)
        defer { executor.stop() }
        return try await withTaskExecutorPreference(executor) { try await body() }
    }

    /// Starts `body` as a new task whose every job, its first included, runs on a new thread
    /// named `name`: unlike a task started on Swift's cooperative pool, it starts at once
    /// however busy the pool is. The thread ends when `body` returns.
    package static func task<T: Sendable>(named name: String, _ body: @escaping @Sendable () async throws -> T) -> Task<T, any Error> {
        let executor = ServiceThread(name: name)
        return Task(executorPreference: executor) {
            defer { executor.stop() }
            return try await body()
        }
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let accepted = condition.withLock {
            guard state != .stopped else { return false }
            jobs.append(job)
            condition.signal()
            return true
        }
        // Once the thread has ended nothing targets it; should a late job come (a child task
        // outliving its scope cannot, but a leaked reference could), it runs here rather than
        // being lost.
        if !accepted { job.runSynchronously(on: globalConcurrentExecutor.asUnownedTaskExecutor()) }
    }

    private func runJobs() {
        var batch: [UnownedJob] = []
        while true {
            condition.lock()
            while jobs.isEmpty, state == .running { condition.wait() }
            if jobs.isEmpty {
                state = .stopped
                condition.unlock()
                return
            }
            swap(&batch, &jobs)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
            batch.removeAll(keepingCapacity: true)
        }
    }

    /// Lets the thread end once the jobs already queued have run.
    private func stop() {
        condition.withLock {
            if state == .running { state = .stopping }
            condition.signal()
        }
    }
}
