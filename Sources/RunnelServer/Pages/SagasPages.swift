import Foundation
import Runnel

/// `/sagas` and `/sagas/{id}`: saga instances by state, a page at a time, and one instance's
/// timeline.
enum SagasPages {
    static func list(_ payload: SagasPayload, sagas: [String], home: RunnelHome) -> [String: Any] {
        let query: (Int) -> [(String, String?)] = { page in
            [("saga", payload.saga), ("state", payload.state), ("limit", String(payload.limit)), ("page", String(page))]
        }
        var context = PageContext.base(title: "Sagas", nav: "sagas", api: PageContext.link("/api/sagas", query(payload.page)), home: home)
        context["counts"] = SagasPayload.states.map { state -> [String: Any] in
            ["state": state, "count": payload.counts[state] ?? 0,
             "link": PageContext.link("/sagas", [("saga", payload.saga), ("state", state)])]
        }
        context["sagas"] = sagas.map { saga -> [String: Any] in
            ["saga": saga, "current": saga == payload.saga, "link": PageContext.link("/sagas", [("saga", saga), ("state", payload.state)])]
        }
        context["all_link"] = PageContext.link("/sagas", [("state", payload.state)])
        let filter = [payload.saga.map { "saga " + $0 }, payload.state.map { "state " + $0 }].compactMap { $0 }
        if !filter.isEmpty { context["filter"] = filter.joined(separator: ", ") }
        context["instances"] = payload.instances.map { instance -> [String: Any] in
            ["id": instance.id, "href": "/sagas/" + PageContext.segment(instance.id), "saga": instance.saga,
             "state": instance.state.rawValue, "step": instance.step,
             "completed_steps": instance.completedSteps, "attempt": instance.attempt,
             "deadline": PageContext.time(instance.deadline), "reason": instance.reason ?? "",
             "started": PageContext.time(instance.startedAt), "updated": PageContext.time(instance.updatedAt),
             "problem": instance.state == .failed]
        }
        context["instance_count"] = payload.instances.count
        context["total"] = payload.total
        context["page"] = payload.page
        let pages = max(1, (payload.total + payload.limit - 1) / payload.limit)
        context["pages"] = pages
        if payload.page > 1 { context["previous"] = PageContext.link("/sagas", query(payload.page - 1)) }
        if payload.page < pages { context["next"] = PageContext.link("/sagas", query(payload.page + 1)) }
        return context
    }

    static func instance(_ payload: SagaDetailPayload, home: RunnelHome) -> [String: Any] {
        let instance = payload.instance
        var context = PageContext.base(title: "Saga instance " + instance.id, nav: "sagas", api: "/api/sagas/" + PageContext.segment(instance.id), home: home)
        context["instance"] = [
            "id": instance.id, "saga": instance.saga, "saga_href": PageContext.link("/sagas", [("saga", instance.saga)]),
            "state": instance.state.rawValue, "step": instance.step,
            "completed_steps": instance.completedSteps, "attempt": instance.attempt, "awaiting": instance.awaiting ?? "",
            "deadline": PageContext.time(instance.deadline), "reason": instance.reason ?? "", "data": instance.data,
            "version": instance.version, "started": PageContext.time(instance.startedAt), "updated": PageContext.time(instance.updatedAt),
        ] as [String: Any]
        context["timeline"] = payload.timeline.map { entry -> [String: Any] in
            ["seq": entry.seq, "at": PageContext.time(entry.at), "step": entry.step.map(String.init) ?? "", "kind": entry.kind,
             "command": entry.commandID ?? "", "type": entry.type ?? "", "detail": entry.detail ?? ""]
        }
        context["entry_count"] = payload.timeline.count
        return context
    }
}
