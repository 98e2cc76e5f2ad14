import Foundation
import Synchronization

/// How the log's appender wakes readers in the same process: ``Log/flush(force:)`` posts the
/// log's folder here, and every follower of that folder is notified, without waiting for the
/// file watcher (which covers appends by other processes).
///
/// Posting with no follower costs one atomic load, so appends stay as fast without one.
package enum LogAppendNotices {
    private struct State {
        var nextID: UInt64 = 0
        var followers: [String: [UInt64: ChangeSignal]] = [:]
    }

    private static let state = Mutex(State())
    private static let followerCount = Atomic<Int>(0)

    /// Notifies `signal` after every append to the log in `folder`, until ``unsubscribe(_:)``.
    package static func subscribe(_ signal: ChangeSignal, toLogIn folder: URL) -> (folder: String, id: UInt64) {
        let key = folder.standardizedFileURL.path
        let id = state.withLock { state in
            state.nextID += 1
            state.followers[key, default: [:]][state.nextID] = signal
            return state.nextID
        }
        followerCount.add(1, ordering: .releasing)
        return (key, id)
    }

    package static func unsubscribe(_ token: (folder: String, id: UInt64)) {
        let removed = state.withLock { state in state.followers[token.folder]?.removeValue(forKey: token.id) != nil }
        if removed { followerCount.subtract(1, ordering: .releasing) }
    }

    /// Wakes the followers of the log in `folder`.
    package static func post(_ folder: URL) {
        guard followerCount.load(ordering: .acquiring) > 0 else { return }
        let key = folder.standardizedFileURL.path
        let signals = state.withLock { state in state.followers[key].map { Array($0.values) } ?? [] }
        for signal in signals { signal.notify() }
    }
}
