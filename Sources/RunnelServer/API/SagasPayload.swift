import Foundation
import GRDB
import Runnel

/// `/api/sagas?saga=&state=&limit=&page=`: saga instances, newest first, a page at a time, and
/// how many instances are in each state (of the saga asked for, or of all).
struct SagasPayload: Encodable, Sendable {
    static let states = SagaState.allCases.map(\.rawValue)

    var saga: String?
    var state: String?
    var page: Int
    var limit: Int
    /// Instances per state, every state listed (0 when none).
    var counts: [String: Int]
    /// Instances matching the filters, over all pages.
    var total: Int
    var instances: [SagaInstanceRecord]

    static func read(saga: String?, state: SagaState?, page: Int, limit: Int, in db: Database) throws -> SagasPayload {
        guard try db.tableExists("runnel_sagas") else {
            return SagasPayload(saga: saga, state: state?.rawValue, page: page, limit: limit,
                                counts: Dictionary(uniqueKeysWithValues: states.map { ($0, 0) }), total: 0, instances: [])
        }
        let counts = try SagaRecords.counts(in: db, saga: saga)
        let total = state.map { counts[$0] ?? 0 } ?? counts.values.reduce(0, +)
        return SagasPayload(
            saga: saga, state: state?.rawValue, page: page, limit: limit,
            counts: Dictionary(uniqueKeysWithValues: SagaState.allCases.map { ($0.rawValue, counts[$0] ?? 0) }),
            total: total,
            instances: try SagaRecords.list(in: db, saga: saga, state: state, limit: limit, offset: (page - 1) * limit))
    }
}
