import Foundation
@testable import Runnel
import RunnelTesting
import Synchronization
import Testing

/// Subscriptions to one folder share its inotify descriptor: one cancelled while another
/// subscribes must not leave the other deaf.
@Suite struct FileWatcherTests {
    @Test func aSubscriptionMadeWhileOthersToTheSameFolderAreCancelledStillHearsChanges() async throws {
        guard let watcher = FileWatcher.shared else { return }
        let temporary = try TemporaryHome(label: "file-watcher")
        var deaf: [Int] = []
        for round in 0..<300 {
            let folder = temporary.folder.appendingPathComponent("round-\(round)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            // Another thread subscribes to the folder and cancels, over and over, while this
            // one subscribes for good.
            let stop = Atomic<Bool>(false)
            let churner = Thread {
                while !stop.load(ordering: .relaxed) { watcher.cancel(watcher.subscribe(ChangeSignal(), to: [folder])) }
            }
            churner.start()
            usleep(UInt32(round % 7) * 50)
            let signal = ChangeSignal()
            let keeper = watcher.subscribe(signal, to: [folder])
            usleep(500)
            stop.store(true, ordering: .relaxed)
            while !churner.isFinished { usleep(100) }
            await signal.wait(timeout: .zero)  // what the churn itself caused
            try Data("x".utf8).write(to: folder.appendingPathComponent("changed"))
            let started = ContinuousClock.now
            await signal.wait(timeout: .seconds(5))
            if ContinuousClock.now - started >= .seconds(4) { deaf.append(round) }
            watcher.cancel(keeper)
        }
        #expect(deaf.isEmpty, "rounds whose lasting subscription heard nothing: \(deaf)")
    }
}
