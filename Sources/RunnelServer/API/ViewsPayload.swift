import Foundation
import GRDB
import Runnel

/// `/api/views`: the read views in `derived.sqlite`, the pipeline that writes each and its rows.
struct ViewsPayload: Encodable, Sendable {
    struct View: Encodable, Sendable {
        var name: String
        var pipeline: String
        var rows: Int
    }

    var views: [View]

    /// The views listed in `runnel_view_owners` that exist in `derived.sqlite`, by name. Only
    /// these names are ever put in SQL by the table browser.
    static func owners(in db: Database) throws -> [(view: String, pipeline: String)] {
        guard try db.tableExists("runnel_view_owners") else { return [] }
        return try Row.fetchAll(db, sql: """
            SELECT o.view, o.pipeline FROM runnel_view_owners o
            JOIN sqlite_master m ON m.name = o.view AND m.type IN ('table', 'view')
            ORDER BY o.view
            """).map { ($0["view"], $0["pipeline"]) }
    }

    static func read(in db: Database) throws -> ViewsPayload {
        ViewsPayload(views: try owners(in: db).map { owner in
            View(name: owner.view, pipeline: owner.pipeline,
                 rows: try Int.fetchOne(db, sql: "SELECT count(*) FROM \(SQLIdentifier.quoted(owner.view))") ?? 0)
        })
    }
}
