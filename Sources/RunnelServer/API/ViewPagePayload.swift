import Foundation
import GRDB
import Runnel

/// `/api/views/{name}?page=&limit=`: one page of a read view's rows, as `SELECT *` returns them.
struct ViewPagePayload: Encodable, Sendable {
    /// One value, as SQLite stores it; blobs as base64.
    enum Cell: Encodable, Sendable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)
        case blob(Data)

        init(_ value: DatabaseValue) {
            switch value.storage {
            case .null: self = .null
            case .int64(let number): self = .integer(number)
            case .double(let number): self = .real(number)
            case .string(let text): self = .text(text)
            case .blob(let data): self = .blob(data)
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .null: try container.encodeNil()
            case .integer(let number): try container.encode(number)
            case .real(let number): try container.encode(number)
            case .text(let text): try container.encode(text)
            case .blob(let data): try container.encode(data.base64EncodedString())
            }
        }

        /// The value as a table cell shows it.
        var text: String {
            switch self {
            case .null: ""
            case .integer(let number): String(number)
            case .real(let number): String(number)
            case .text(let text): text
            case .blob(let data): "(\(data.count) bytes)"
            }
        }
    }

    var view: String
    var pipeline: String
    var page: Int
    var limit: Int
    var totalRows: Int
    var columns: [String]
    var rows: [[Cell]]

    /// A page of `name`, or nil when `name` is not one of the read views listed by
    /// ``ViewsPayload/owners(in:)``: a name from a request reaches SQL only after that check, and
    /// then quoted as an identifier; the paging values are bound.
    static func read(name: String, page: Int, limit: Int, in db: Database) throws -> ViewPagePayload? {
        guard let owner = try ViewsPayload.owners(in: db).first(where: { $0.view == name }) else { return nil }
        let table = SQLIdentifier.quoted(owner.view)
        let columns = try db.columns(in: owner.view).map(\.name)
        let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(table) LIMIT ? OFFSET ?", arguments: [limit, (page - 1) * limit])
        return ViewPagePayload(
            view: owner.view, pipeline: owner.pipeline, page: page, limit: limit,
            totalRows: try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0,
            columns: columns,
            rows: rows.map { row in row.databaseValues.map(Cell.init) })
    }
}
