import Runnel

/// `/api/pipelines`: each pipeline's state and lag (as `runnel status` reads them) and its lag
/// history since the dashboard started, at most the last hour.
struct PipelinesPayload: Encodable, Sendable {
    struct Pipeline: Encodable, Sendable {
        var status: HomeStatus.RunnerStatus
        /// Oldest first.
        var history: [LagHistory.Sample]
    }

    /// When the status was read, in milliseconds since 1970.
    var readAt: Int64
    /// When the history starts: the dashboard's start, or an hour before ``readAt``.
    var historySince: Int64
    /// Whether the dashboard has run for less than the hour the charts span.
    var historyIsPartial: Bool
    var pipelines: [Pipeline]

    init(status: HomeStatus, history: LagHistory) {
        readAt = status.readAt
        historySince = max(history.startedAt, status.readAt - LagHistory.span)
        historyIsPartial = history.startedAt > status.readAt - LagHistory.span
        pipelines = status.pipelines.map { Pipeline(status: $0, history: history.samples(of: $0.name)) }
    }
}
