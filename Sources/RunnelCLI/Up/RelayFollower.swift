import Foundation
import Logging
import Runnel
import ServiceLifecycle

/// The relay of `runnel up`: opens the log for writing when it starts and closes it when it
/// stops, however it stops, so a restart after a failure opens it afresh (the writer's lock is
/// per open file, and a second open in the same process would be refused).
struct RelayFollower: Service {
    let store: Store
    let partitions: Int
    let console: Console
    let logger: Logger

    func run() async throws {
        let (log, relay) = try RelayCommand.open(store, batchSize: 5_000, partitions: partitions, console: console)
        do {
            try await RelayService(relay: relay, logger: logger).run()
        } catch {
            try? log.close()
            throw error
        }
        try log.close()
    }
}
