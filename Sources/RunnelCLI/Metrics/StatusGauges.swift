import Foundation
import Logging
import Metrics
import Runnel

/// Sets the lag gauges from the home's status just before a scrape renders them.
///
/// The runners set them at each commit; a runner that is down, or restarting on the same failing
/// batch, commits nothing and would show the lag of its last commit (often 0) for as long as it
/// fails. Read from ``StatusReader`` at scrape time, the gauges show the records waiting now,
/// whatever state the runner is in.
final class StatusGauges: Sendable {
    private let reader: StatusReader
    private let logger: Logger

    init(reader: StatusReader, logger: Logger) {
        self.reader = reader
        self.logger = logger
    }

    /// Reads the status and records every lag gauge; a status that cannot be read leaves the
    /// gauges as the runners last set them, and is logged.
    func update() {
        let status: HomeStatus
        do {
            status = try reader.read()
        } catch {
            logger.warning("metrics: cannot read the home's status for the lag gauges", metadata: ["error": "\(error)"])
            return
        }
        for pipeline in status.pipelines {
            let dimensions = [("pipeline", pipeline.name)]
            Gauge(label: "runnel_pipeline_lag_events", dimensions: dimensions).record(pipeline.lagEvents)
            Gauge(label: "runnel_pipeline_lag_milliseconds", dimensions: dimensions).record(pipeline.lagMs)
        }
        for handler in status.handlers {
            Gauge(label: "runnel_handler_lag_events", dimensions: [("handler", handler.name)]).record(handler.lagEvents)
        }
        for saga in status.sagas {
            Gauge(label: "runnel_saga_lag_events", dimensions: [("saga", saga.saga)]).record(saga.coordinator.lagEvents)
        }
    }
}
