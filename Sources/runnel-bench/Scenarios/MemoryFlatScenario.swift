import CRunnelBenchHeap
import Foundation
import Runnel
import RunnelTesting

/// `memory-flat`: the memory `window-aggregate`'s pipeline holds over ten times as many events.
/// The project's goal: processing 10M events uses no more memory than 1M.
///
/// Unlike the other scenarios, both sides are Runnel: the "baseline" is the same pipeline over a
/// tenth of the events, so the ratio (its figure over the larger run's) is 1 when memory stays
/// flat; the goal of 0.95 allows 5% for allocator noise. A pipeline whose state or buffers grew
/// with the input (events kept past their batch, windows never closed, a cache without bound)
/// would show a figure growing with the events and miss it.
///
/// The figure is the most heap the process had in use (glibc's `mallinfo2`: bytes allocated and
/// not freed, arenas and mapped blocks) at the end of any batch of the run, when the window
/// state is largest, less what was in use when the run began (the filled log's own structures,
/// which grow with the log, not with what a pipeline holds). It counts what the pipeline holds, not what the allocator keeps resident
/// after frees, which makes resident sizes (also reported, from the kernel's high-water mark)
/// depend on what ran before. Each run has a home and a log of its own, filled before it (not
/// measured) with events made as `window-aggregate` makes them (10,000 members, times advancing
/// 3 ms an event, so the 5-minute windows close as the run goes), and starts with no state.
struct MemoryFlatScenario: Scenario {
    let name = "memory-flat"
    let summary = "heap in use by the window pipeline over 10M events vs the same pipeline over 1M (ratio 1 = flat)"
    let unit = "heap MiB"
    let goal = 0.95
    var direction: Direction { .lowerIsBetter }

    /// Events of the larger run (the smaller reads a tenth).
    static func events(quick: Bool) -> Int { quick ? 1_000_000 : 10_000_000 }

    func run(quick: Bool) throws -> SideBySideMeasurement {
        let large = Self.events(quick: quick)
        let small = large / 10
        let smallRun = try Self.peak(events: small)
        let largeRun = try Self.peak(events: large)
        let mebibyte = Double(1 << 20)
        func mib(_ bytes: Int) -> Double { Double(bytes) / mebibyte }
        func describe(_ run: Run, _ events: Int) -> String {
            "\(events) events: heap in use at most \(FigureFormat.display(mib(run.heapBytes))) MiB over the \(FigureFormat.display(mib(run.heapStartBytes))) MiB at its start, resident peak "
                + "\(FigureFormat.display(mib(run.residentPeakBytes))) MiB (+\(FigureFormat.display(mib(run.residentPeakBytes - run.residentStartBytes)))), "
                + "\(FigureFormat.display(Double(events) / run.elapsed.seconds)) events/s"
        }
        return SideBySideMeasurement(
            runnel: mib(largeRun.heapBytes),
            baseline: mib(smallRun.heapBytes),
            detail: [
                Figure("large_events", large), Figure("small_events", small),
                Figure("large_heap_mib", mib(largeRun.heapBytes)), Figure("small_heap_mib", mib(smallRun.heapBytes)),
                Figure("large_resident_peak_mib", mib(largeRun.residentPeakBytes)), Figure("small_resident_peak_mib", mib(smallRun.residentPeakBytes)),
                Figure("large_events_per_s", Double(large) / largeRun.elapsed.seconds),
                Figure("small_events_per_s", Double(small) / smallRun.elapsed.seconds),
            ],
            note: "window-aggregate's pipeline, batch mode, no state at the start; " + describe(largeRun, large) + "; " + describe(smallRun, small))
    }

    /// What one run needed.
    private struct Run {
        /// The most heap in use at the end of a batch, over what was in use when the run began.
        var heapBytes: Int
        /// The heap in use when the run began.
        var heapStartBytes: Int
        var residentPeakBytes: Int
        var residentStartBytes: Int
        var elapsed: Duration
    }

    /// Bytes the allocator has handed out and not had back, arenas and mapped blocks together.
    private static func heapInUse() throws -> Int {
        let bytes = runnel_bench_heap_in_use()
        guard bytes > 0 else { throw BenchmarkError("memory-flat: this C library does not report the heap in use (it needs glibc 2.33 or later)") }
        return bytes
    }

    /// Fills a log of its own with `events` events (not measured), then runs the pipeline over
    /// them from no state, watching the peak resident size.
    private static func peak(events: Int) throws -> Run {
        let home = try TemporaryHome(label: "bench-memory")
        return try withExtendedLifetime(home) {
            let store = try home.openStore()
            let writable = try Log.open(home.home.logURL)
            let partition = try writable.topic(WindowAggregateScenario.topic, creatingWith: TopicConfiguration()).partitions[0]
            _ = try WindowAggregateScenario.fill(count: events, into: partition, baseline: nil, batchSize: OutboxRelay.Configuration().batchSize)
            try writable.close()
            let log = try Log.openForReading(home.home.logURL)
            let watch = PeakMemory.start()
            let heapStart = try heapInUse()
            var heapBytes = heapStart
            let clock = ContinuousClock()
            let started = clock.now
            let summary = try PipelineRunner(pipeline: WindowAggregateScenario.pipeline, store: store, log: log).runToEnd { _, _ in
                heapBytes = max(heapBytes, (try? heapInUse()) ?? 0)
            }
            let elapsed = clock.now - started
            guard summary.records == events, summary.deadLetters == 0, summary.lateEvents == 0 else {
                throw BenchmarkError("memory-flat: the pipeline read \(summary.records) of \(events) records (\(summary.deadLetters) dead letters, \(summary.lateEvents) late)")
            }
            return Run(heapBytes: heapBytes - heapStart, heapStartBytes: heapStart, residentPeakBytes: watch.peakBytes, residentStartBytes: watch.startBytes, elapsed: elapsed)
        }
    }
}
