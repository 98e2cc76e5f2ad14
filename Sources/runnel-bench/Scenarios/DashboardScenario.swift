import AsyncHTTPClient
import Foundation
import GRDB
import Logging
import Runnel
import RunnelServer
import RunnelTesting
import ServiceLifecycle

/// `dashboard`: `/api/status` on loopback while the relay and a pipeline follow 10K events/s,
/// and what the polling costs the pipeline: commit → read view latency with the dashboard
/// polled, beside the same with the dashboard idle.
///
/// One home, as `nearline-latency`'s Runnel side: a writer commits 10 events per transaction,
/// one transaction a millisecond, while ``RelayService`` and ``PipelineService`` follow, and the
/// dashboard (``Dashboard``, port 0) runs in the same process. In the polled rounds,
/// ``pollers`` clients each send `GET /api/status` every ``pollInterval`` over keep-alive
/// connections for the whole round (a busy operations screen: 80 requests/s), each client
/// starting a quarter interval after the one before, as independent viewers do, each request
/// timed from send to the last byte of its body; in the idle rounds nobody asks. (Clients in
/// lockstep, all four asking at the same instant, measured a p99 of about 20 ms here.) The order
/// rotates every round. A last, uncounted round polls as fast as the clients can, for the
/// requests/s the dashboard sustains while following.
///
/// The ratio compares the pipeline's p99 (idle over polled; goal 0.5: polling may at most
/// double it); the absolute goals are `/api/status` p99 ≤ 20 ms and, polled, commit → view
/// p99 ≤ 10 ms.
struct DashboardScenario: Scenario {
    let name = "dashboard"
    let summary = "/api/status p99 and requests/s while relay and pipeline follow 10K events/s; commit → view p99 polled vs idle"
    let unit = "p99 ms"
    let goal = 0.5
    var direction: Direction { .lowerIsBetter }

    /// Concurrent clients polling `/api/status`.
    static let pollers = 4
    /// How often each client asks in the polled rounds.
    static let pollInterval = Duration.milliseconds(50)

    private struct Figures {
        var latency = LatencyRecorder()
        var events = 0
        var writing: Duration = .zero
        var rate: Double { writing > .zero ? Double(events) / writing.seconds : 0 }
    }

    func run(quick: Bool) throws -> SideBySideMeasurement {
        let home = try TemporaryHome(label: "bench-dashboard")
        return try withExtendedLifetime(home) { try measure(home, size: TimedRounds(quick: quick)) }
    }

    private func measure(_ temporary: TemporaryHome, size: TimedRounds) throws -> SideBySideMeasurement {
        let store = try temporary.openStore()
        let log = try Log.open(temporary.home.logURL)
        try log.createTopic(NearlineEvent.topic)
        let relay = try OutboxRelay(store: store, log: log)
        let pipeline = NearlineLatencyScenario.pipeline
        _ = try PipelineRunner(pipeline: pipeline, store: store)
        var readOnly = Configuration()
        readOnly.readonly = true
        let observer = try DatabaseQueue(path: temporary.home.derivedDatabaseURL.path, configuration: readOnly)

        let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let dashboard = try Dashboard(home: temporary.home, catalog: Catalog(name: "bench", pipelines: [pipeline]),
                                      access: try DashboardAccess(host: "127.0.0.1", port: 0), metrics: nil, logger: quiet)
        let port = PortBox()
        let server = BackgroundTask {
            let app = dashboard.makeApplication { port.set($0) }
            try await ServiceGroup(services: [app], logger: quiet).run()
        }
        guard let bound = port.wait(seconds: 30) else { throw BenchmarkError("\(name): the dashboard did not start listening") }
        let url = "http://127.0.0.1:\(bound)/api/status"
        let client = HTTPClient(eventLoopGroupProvider: .singleton)

        var idle = Figures(), polled = Figures()
        var status = LatencyRecorder(), saturated = LatencyRecorder()
        var requests = 0, failures: [String] = [], pollingSpan: Duration = .zero
        var saturatedRequests = 0, saturatedSpan: Duration = .zero
        var nextSeq: Int64 = 1
        for round in 0...(size.rounds + 1) {
            let counted = round > 0 && round <= size.rounds
            let saturating = round > size.rounds
            let events = Int((round > 0 ? size.roundSeconds : size.warmUpSeconds) * Double(NearlineLatencyScenario.rate))
                / NearlineLatencyScenario.eventsPerTransaction * NearlineLatencyScenario.eventsPerTransaction
            for turn in 0..<(saturating ? 1 : 2) {
                let polling = saturating || (round + turn) % 2 == 0
                let probe = VisibilityProbe(firstSeq: nextSeq, count: events)
                let deadline = LatencyProbe.now() + UInt64((Double(events) / Double(NearlineLatencyScenario.rate) + 30) * 1e9)
                let watcher = BackgroundThread(name: "runnel-bench view observer") {
                    try NearlineLatencyScenario.observe(observer, view: NearlineLatencyScenario.runnelView, probe: probe, deadline: deadline)
                }
                let relayTask = BackgroundTask { try await RelayService(relay: relay).run() }
                let pipelineTask = BackgroundTask { try await PipelineService(pipeline: pipeline, store: store).run() }
                usleep(100_000)
                let stop = StopFlag()
                // Independent viewers: each client's first request is offset by a share of the interval.
                let clients = polling ? (0..<Self.pollers).map { index in
                    Poller(client: client, url: url, interval: saturating ? nil : Self.pollInterval,
                           offset: Self.pollInterval * index / Self.pollers, stop: stop)
                } : []
                let started = ContinuousClock.now
                var commits = LatencyRecorder()
                let span = try NearlineLatencyScenario.session(probe, observer: watcher, stoppers: [
                    { stop.raise(); for poller in clients { try poller.join() } },
                    pipelineTask.cancelAndJoin, relayTask.cancelAndJoin,
                ]) {
                    try NearlineLatencyScenario.write(probe, commits: &commits) { seqs in
                        try store.app.write { db in
                            for seq in seqs {
                                let event = NearlineEvent(seq: seq)
                                _ = try store.outbox.append(OutboxEvent(topic: NearlineEvent.topic, key: String(event.writer), type: NearlineEvent.type,
                                                                        payload: event, eventTime: event.at), in: db)
                            }
                        }
                    }
                }
                nextSeq += Int64(events)
                if saturating {
                    saturatedSpan += ContinuousClock.now - started
                    for poller in clients {
                        saturated.add(poller.latency)
                        saturatedRequests += poller.requests
                        failures += poller.failures
                    }
                }
                guard counted else { continue }
                if polling {
                    pollingSpan += ContinuousClock.now - started
                    for poller in clients {
                        status.add(poller.latency)
                        requests += poller.requests
                        failures += poller.failures
                    }
                    polled.latency.add(try probe.latencies())
                    polled.events += probe.count
                    polled.writing += span
                } else {
                    idle.latency.add(try probe.latencies())
                    idle.events += probe.count
                    idle.writing += span
                }
            }
        }
        try client.syncShutdown()
        try server.cancelAndJoin()
        try log.close()
        guard failures.isEmpty else {
            throw BenchmarkError("\(name): \(failures.count) of \(requests) requests to /api/status failed, first: \(failures[0])")
        }
        let inLog = try log.topic(NearlineEvent.topic)?.partitions.reduce(Int64(0)) { $0 + $1.endOffset } ?? 0
        guard inLog == nextSeq - 1, requests > 0 else {
            throw BenchmarkError("\(name): \(nextSeq - 1) events written but \(inLog) in the log, \(requests) status requests")
        }

        let statusLatency = status.summary
        let polledLatency = polled.latency.summary
        let idleLatency = idle.latency.summary
        let requestsPerSecond = Double(requests) / max(pollingSpan.seconds, 1e-9)
        let saturatedLatency = saturated.summary
        let saturatedPerSecond = Double(saturatedRequests) / max(saturatedSpan.seconds, 1e-9)
        let statusGoal = statusLatency.p99 <= 20_000
        let nearlineGoal = polledLatency.p99 <= 10_000
        func ms(_ microseconds: Double) -> String { FigureFormat.display(microseconds / 1000) }
        return SideBySideMeasurement(
            runnel: polledLatency.p99 / 1000,
            baseline: idleLatency.p99 / 1000,
            runnelLatency: polledLatency,
            baselineLatency: idleLatency,
            goals: [Goal("status p99 ≤ 20 ms", met: statusGoal), Goal("polled view p99 ≤ 10 ms", met: nearlineGoal)],
            detail: [
                Figure("status_p50_ms", statusLatency.p50 / 1000), Figure("status_p99_ms", statusLatency.p99 / 1000),
                Figure("status_max_ms", statusLatency.max / 1000), Figure("status_requests_per_s", requestsPerSecond),
                Figure("status_requests", requests), Figure("status_errors", failures.count),
                Figure("saturated_requests_per_s", saturatedPerSecond), Figure("saturated_p99_ms", saturatedLatency.p99 / 1000),
                Figure("polled_events_per_s", polled.rate), Figure("idle_events_per_s", idle.rate),
                Figure("pollers", Self.pollers), Figure("rounds", size.rounds), Figure("round_seconds", size.roundSeconds),
            ],
            note: "/api/status, \(Self.pollers) clients on loopback each asking every \(Self.pollInterval.wholeMilliseconds) ms while following "
                + "\(NearlineLatencyScenario.rate) events/s: p50/p99/max \(ms(statusLatency.p50))/\(ms(statusLatency.p99))/\(ms(statusLatency.max)) ms, "
                + "\(FigureFormat.display(requestsPerSecond)) requests/s, 0 errors; "
                + "asking as fast as they can: \(FigureFormat.display(saturatedPerSecond)) requests/s, p99 \(ms(saturatedLatency.p99)) ms; "
                + "commit → view p99 polled \(ms(polledLatency.p99)) ms vs idle \(ms(idleLatency.p99)) ms; "
                + "events/s achieved polled \(FigureFormat.display(polled.rate)), "
                + "idle \(FigureFormat.display(idle.rate)); \(size.rounds) rounds × \(FigureFormat.display(size.roundSeconds)) s a side")
    }
}

/// The port the dashboard reports once it listens.
private final class PortBox: @unchecked Sendable {
    // @unchecked: `port` is guarded by `condition`.
    private let condition = NSCondition()
    private var port: Int?

    func set(_ value: Int) { condition.withLock { port = value; condition.broadcast() } }

    func wait(seconds: Double) -> Int? {
        condition.withLock {
            let deadline = Date().addingTimeInterval(seconds)
            while port == nil, condition.wait(until: deadline) {}
            return port
        }
    }
}

/// One client looping on `GET url` until stopped, on a task of its own.
private final class Poller: @unchecked Sendable {
    // @unchecked: the fields are written by the task before it signals `done`, read after `join`.
    private(set) var latency = LatencyRecorder()
    private(set) var requests = 0
    private(set) var failures: [String] = []
    private var task: BackgroundTask?

    /// - Parameters:
    ///   - interval: How often to ask; nil asks again as soon as an answer is read.
    ///   - offset: When to ask first, with an interval.
    init(client: HTTPClient, url: String, interval: Duration?, offset: Duration, stop: StopFlag) {
        task = BackgroundTask { [self] in
            var next = ContinuousClock.now + offset
            while !stop.isRaised {
                if let interval {
                    if ContinuousClock.now < next { try await Task.sleep(until: next, clock: .continuous) }
                    next += interval
                }
                let start = ContinuousClock.now
                do {
                    let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
                    let body = try await response.body.collect(upTo: 16 << 20)
                    latency.record(ContinuousClock.now - start)
                    if response.status != .ok { failures.append("HTTP \(response.status.code): \(String(buffer: body).prefix(200))") }
                } catch {
                    failures.append("\(error)")
                }
                requests += 1
            }
        }
    }

    /// Waits for the loop to see the stop flag and return (no cancellation: a request in flight completes).
    func join() throws { try task?.join() }
}
