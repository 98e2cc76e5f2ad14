import Foundation

/// Runs blocking work side by side on threads of its own, for work that waits on the disk more
/// than it computes: `DispatchQueue.concurrentPerform` keeps to one thread per core, so on a
/// two-core machine a third partition's reads would not be issued until one of the first two
/// finished, and the disk would see at most two requests at a time.
enum ParallelThreads {
    /// Calls `body` once for each index below `count`, on up to `limit` threads at once (the
    /// caller's among them), and returns when every call has.
    static func forEach(_ count: Int, limit: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let next = Locked(0)
        let work: @Sendable () -> Void = {
            while true {
                let index = next.withLock { value in
                    defer { value += 1 }
                    return value
                }
                guard index < count else { return }
                body(index)
            }
        }
        let group = DispatchGroup()
        for _ in 1..<max(1, min(count, limit)) {
            group.enter()
            Thread {
                work()
                group.leave()
            }.start()
        }
        work()
        group.wait()
    }
}
