import Foundation
import GRDB
import Runnel

/// `/api/sagas/{id}`: one instance and its timeline.
struct SagaDetailPayload: Encodable, Sendable {
    var instance: SagaInstanceRecord
    var timeline: [SagaLogEntry]

    /// The instance, or nil when there is none with this id.
    static func read(id: String, in db: Database) throws -> SagaDetailPayload? {
        guard try db.tableExists("runnel_sagas"), let instance = try SagaRecords.instance(id, in: db) else { return nil }
        return SagaDetailPayload(instance: instance, timeline: try SagaRecords.timeline(id, in: db))
    }
}
