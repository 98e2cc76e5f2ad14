import Foundation
import Runnel

/// `/kv`, `/views` and `/views/{name}`: the KV stores, the read views and one view's rows.
enum StoragePages {
    static func kv(_ payload: KVPayload, home: RunnelHome) -> [String: Any] {
        var context = PageContext.base(title: "KV stores", nav: "kv", api: "/api/kv", home: home)
        context["stores"] = payload.stores.map { store -> [String: Any] in
            ["store": store.store, "version": store.version.map(String.init) ?? "none", "keys": store.keys.map(String.init) ?? "",
             "bytes": PageContext.bytes(store.bytes.map(Int64.init)), "built": PageContext.time(store.builtAt),
             "age": PageContext.duration(ms: store.ageMs), "pipeline": store.pipeline ?? "",
             "kept": store.keptVersions.map(String.init).joined(separator: ", "),
             "problem_text": store.problem ?? "", "problem": store.problem != nil]
        }
        context["store_count"] = payload.stores.count
        return context
    }

    static func views(_ payload: ViewsPayload, home: RunnelHome) -> [String: Any] {
        var context = PageContext.base(title: "Read views", nav: "views", api: "/api/views", home: home)
        context["views"] = payload.views.map {
            ["name": $0.name, "href": "/views/" + PageContext.segment($0.name), "pipeline": $0.pipeline, "rows": $0.rows] as [String: Any]
        }
        context["view_count"] = payload.views.count
        return context
    }

    static func view(_ payload: ViewPagePayload, home: RunnelHome) -> [String: Any] {
        let query: (Int) -> [(String, String?)] = { [("page", String($0)), ("limit", String(payload.limit))] }
        let path = "/views/" + PageContext.segment(payload.view)
        var context = PageContext.base(title: "Read view " + payload.view, nav: "views", api: PageContext.link("/api" + path, query(payload.page)), home: home)
        context["view"] = payload.view
        context["pipeline"] = payload.pipeline
        context["columns"] = payload.columns.map { ["name": $0] }
        context["rows"] = payload.rows.map { row in ["cells": row.map { ["text": $0.text, "null": $0.isNull] as [String: Any] }] }
        context["row_count"] = payload.rows.count
        context["total"] = payload.totalRows
        context["page"] = payload.page
        let pages = max(1, (payload.totalRows + payload.limit - 1) / payload.limit)
        context["pages"] = pages
        if payload.page > 1 { context["previous"] = PageContext.link(path, query(payload.page - 1)) }
        if payload.page < pages { context["next"] = PageContext.link(path, query(payload.page + 1)) }
        return context
    }
}

extension ViewPagePayload.Cell {
    var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
