import ServiceLifecycle
import Synchronization

/// How a caught-up service waits for work: it suspends until something notifies the signal
/// (an append to the log it reads, a change to the files it watches, a graceful shutdown),
/// or a timeout passes, instead of polling.
///
/// A notification that arrives while nobody waits is kept, so the next ``wait(timeout:)``
/// returns at once: a change between a service's last look and its wait is never missed.
/// One task waits at a time; any number of threads may notify.
package final class ChangeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
        /// Counts waits, so a cancellation handler resumes only the wait it belongs to.
        var wait: UInt64 = 0
        var cancelledWait: UInt64 = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// Wakes the waiting task, or the next one to wait.
    package func notify() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Suspends until a notification (possibly one that came before the call), `timeout`,
    /// cancellation of the task, or the start of a graceful shutdown.
    package func wait(timeout: Duration) async {
        if state.withLock({ state in defer { state.pending = false }; return state.pending }) { return }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.suspend() }
                group.addTask { try? await Task.sleep(for: timeout) }
                await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.notify()
        }
    }

    private func suspend() async {
        let wait = state.withLock { state in
            state.wait += 1
            return state.wait
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.pending || state.cancelledWait == wait {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.cancelledWait = wait
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
