import Foundation
import Runnel

/// `/pipelines`: each pipeline's state and lag, and a chart of its lag over the last hour (or
/// since the dashboard started, when that is more recent).
enum PipelinesPage {
    static func context(_ payload: PipelinesPayload, home: RunnelHome) -> [String: Any] {
        var context = PageContext.base(title: "Pipelines", nav: "pipelines", api: "/api/pipelines", home: home,
                                       now: Date(millisecondsSince1970: payload.readAt))
        context["since"] = payload.historyIsPartial
            ? "since the dashboard started, " + PageContext.time(ms: payload.historySince) + " (UTC)"
            : "over the last hour"
        context["pipelines"] = payload.pipelines.map { pipeline -> [String: Any] in
            let status = pipeline.status
            return [
                "name": status.name, "state": status.state, "pid": status.runningPid.map(String.init) ?? "",
                "records": status.records, "lag_events": status.lagEvents, "lag": PageContext.duration(ms: status.lagMs),
                "watermark": PageContext.time(ms: status.watermark), "last_commit": PageContext.time(ms: status.lastCommitAt),
                "dead_letters": status.deadLetters, "late_events": status.lateEvents,
                "chart": LagChart(samples: pipeline.history, end: payload.readAt).context,
            ]
        }
        return context
    }
}
