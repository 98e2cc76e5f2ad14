import Foundation
import GRDB

extension SagaCoordinator {
    /// Aborts a running instance, as an operator: what it awaits is given up and its completed
    /// steps are undone, last first. The instance's change, its timeline entry and the first
    /// compensation commit in one transaction; the coordinator carries on from there (it need
    /// not be stopped).
    /// - Parameters:
    ///   - id: The instance's id (`premium-upgrade:42`).
    ///   - saga: Its saga.
    ///   - store: The home's databases.
    ///   - reason: Why, for the timeline.
    ///   - clock: The clock deadlines are set from.
    /// - Throws: ``RunnelError`` `.notFound` for an unknown id; `.saga` when it is not running.
    public static func abort(_ id: String, of saga: Saga, in store: Store, reason: String, clock: any WallClock = SystemWallClock()) throws {
        try change(id, of: saga, in: store, clock: clock) { machine, instance in try machine.abort(&instance, reason: reason) }
    }

    /// Sends a failed instance's compensation again, as an operator, from its first attempt.
    /// - Throws: ``RunnelError`` `.notFound` for an unknown id; `.saga` when it is not failed.
    public static func retry(_ id: String, of saga: Saga, in store: Store, clock: any WallClock = SystemWallClock()) throws {
        try change(id, of: saga, in: store, clock: clock) { machine, instance in try machine.retry(&instance) }
    }

    private static func change(_ id: String, of saga: Saga, in store: Store, clock: any WallClock,
                               _ body: (inout SagaMachine, inout SagaInstance) throws -> Void) throws {
        try RunnelError.naming(store.app.path, "changing saga \(id)") {
            try store.app.write { db in
                guard var instance = try SagaInstance.load(id, in: db), instance.saga == saga.name else {
                    throw RunnelError(.notFound, "no instance \(id) of saga \(saga.name) in \(store.app.path)",
                                      hint: "`runnel saga list` shows the instances there are")
                }
                let now = clock.now()
                var machine = SagaMachine(saga: saga, db: db, now: now, outbox: store.outbox)
                try body(&machine, &instance)
                instance.version += 1
                instance.updatedAt = now.millisecondsSince1970
                try instance.save(in: db)
            }
        }
    }
}
