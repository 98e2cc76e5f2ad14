#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// Notifies ``ChangeSignal``s when files in watched folders change: written, created, renamed
/// into place or removed. It is how a follower in one process learns that another process
/// appended to the log or committed to a database, without polling.
///
/// On Linux it is one inotify instance for the whole process, read by one thread that sleeps
/// in `read(2)` between events. Elsewhere ``shared`` is nil and callers fall back to a
/// polling interval.
package final class FileWatcher: Sendable {
    /// The process's watcher, or nil where the system has no inotify or it could not start
    /// (too many instances); callers then poll.
    package static let shared: FileWatcher? = FileWatcher()

    /// How often a waiting service looks anyway: 1 s as a safety net beside the watcher, or
    /// 10 ms where there is none (then it is the only way to notice a change).
    package static var idleCheckInterval: Duration { shared == nil ? .milliseconds(10) : .seconds(1) }

    /// A set of watched folders for one signal; stop it with ``FileWatcher/cancel(_:)``.
    package struct Subscription: Sendable, Hashable {
        fileprivate let id: UInt64
    }

    private struct Watch {
        /// The file names that matter to it, or nil for all.
        var names: Set<String>?
        var signal: ChangeSignal
        var descriptors: Set<Int32>
    }

    private struct State {
        var nextID: UInt64 = 0
        var watches: [UInt64: Watch] = [:]
    }

    private let descriptor: Int32
    private let state = Mutex(State())

    private init?() {
        #if canImport(Glibc)
        let descriptor = inotify_init1(Int32(IN_CLOEXEC))
        guard descriptor >= 0 else { return nil }
        self.descriptor = descriptor
        let thread = Thread { [self] in readEvents() }
        thread.name = "runnel.file-watcher"
        thread.start()
        #else
        return nil
        #endif
    }

    /// Starts notifying `signal` when a file in one of `folders` changes, only for files
    /// named in `names` when given. Folders that do not exist are skipped: watch their parent
    /// too and call ``add(_:to:)`` when they appear.
    package func subscribe(_ signal: ChangeSignal, to folders: [URL], names: Set<String>? = nil) -> Subscription {
        let subscription = state.withLock { state in
            state.nextID += 1
            state.watches[state.nextID] = Watch(names: names, signal: signal, descriptors: [])
            return Subscription(id: state.nextID)
        }
        add(folders, to: subscription)
        return subscription
    }

    /// Adds folders to a subscription (watching one twice is harmless).
    ///
    /// inotify gives one descriptor per folder, shared by every subscription to it, so adding a
    /// watch and recording who holds it happen under one lock with ``cancel(_:)``'s check that
    /// nobody else does: otherwise a cancel could remove the descriptor another subscription had
    /// just been given, and that subscription would hear nothing again.
    package func add(_ folders: [URL], to subscription: Subscription) {
        #if canImport(Glibc)
        let mask = UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_CLOSE_WRITE)
        state.withLock { state in
            guard state.watches[subscription.id] != nil else { return }
            for folder in folders {
                let watch = inotify_add_watch(descriptor, folder.path, mask)
                guard watch >= 0 else { continue }
                state.watches[subscription.id]!.descriptors.insert(watch)
            }
        }
        #endif
    }

    /// Stops a subscription; folders nobody else watches are unwatched.
    package func cancel(_ subscription: Subscription) {
        state.withLock { state in
            guard let watch = state.watches.removeValue(forKey: subscription.id) else { return }
            #if canImport(Glibc)
            for descriptor in watch.descriptors where !state.watches.values.contains(where: { $0.descriptors.contains(descriptor) }) {
                inotify_rm_watch(self.descriptor, descriptor)
            }
            #endif
        }
    }

    #if canImport(Glibc)
    private func readEvents() {
        let capacity = 64 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        defer { buffer.deallocate() }
        let headerSize = MemoryLayout<inotify_event>.size
        while true {
            let count = read(descriptor, buffer, capacity)
            if count < 0 {
                if errno == EINTR { continue }
                // The descriptor broke: wake everyone once; their slow poll takes over.
                notify { _ in true }
                return
            }
            var changed: [(watch: Int32, name: String)] = []
            var overflowed = false
            var cursor = 0
            while cursor + headerSize <= count {
                let event = buffer.load(fromByteOffset: cursor, as: inotify_event.self)
                if event.mask & UInt32(IN_Q_OVERFLOW) != 0 { overflowed = true }
                let name = event.len > 0
                    ? String(cString: buffer.advanced(by: cursor + headerSize).assumingMemoryBound(to: CChar.self))
                    : ""
                changed.append((event.wd, name))
                cursor += headerSize + Int(event.len)
            }
            if overflowed {
                // Events were dropped: anyone may have missed a change.
                notify { _ in true }
            } else {
                notify { watch in changed.contains { $0.watch == watch.0 && (watch.1 == nil || watch.1!.contains($0.name)) } }
            }
        }
    }
    #endif

    /// Notifies every subscription for which `matches((descriptor, names))` holds for one of
    /// its descriptors.
    private func notify(_ matches: ((Int32, Set<String>?)) -> Bool) {
        let signals: [ChangeSignal] = state.withLock { state in
            state.watches.values.filter { watch in watch.descriptors.contains { matches(($0, watch.names)) } }.map(\.signal)
        }
        for signal in signals { signal.notify() }
    }
}
