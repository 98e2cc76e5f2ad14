import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

@Suite struct WindowTests {
    static func tumbling(lateness: TimeSpan = .zero, emit: EmitPolicy = .onUpdate) -> Pipeline {
        Pipeline("tumbling", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId)
                .window(.tumbling(.minutes(5)), lateness: lateness, emit: emit) {
                    Count("clicks")
                    Sum("dwell_ms", \.dwellMs)
                }
                .into(ReadView("clicks_5m", primaryKey: ["user_id", "window_start"]))
        }
    }

    @Test func tumblingWindowsSplitExactlyAtTheirBoundaries() throws {
        let driver = try PipelineTestDriver(Self.tumbling())
        try driver.click(1, user: 1, at: 0)
        try driver.click(2, user: 1, at: 5 * minute - 1)
        try driver.click(3, user: 1, at: 5 * minute)
        try driver.click(4, user: 2, at: 5 * minute + 1)
        try driver.run()
        let rows = try driver.rows("clicks_5m", orderBy: "user_id, window_start")
        #expect(rows.map { int($0["window_start"]) } == [0, 5 * minute, 5 * minute])
        #expect(rows.map { int($0["window_end"]) } == [5 * minute, 10 * minute, 10 * minute])
        #expect(rows.map { int($0["clicks"]) } == [2, 1, 1])
        #expect(rows.map { int($0["dwell_ms"]) } == [200, 100, 100])
    }

    @Test func aLateEventWithinTheLatenessCountsAndOneBeyondItIsKeptAside() throws {
        let driver = try PipelineTestDriver(Self.tumbling(lateness: .minutes(1)))
        try driver.click(1, user: 1, at: 4 * minute)
        try driver.click(2, user: 1, at: 5 * minute + 30_000)    // stream time 5:30, watermark 4:30
        try driver.click(3, user: 1, at: 4 * minute + 50_000)    // window [0,5) still open: counts
        try driver.run()
        try driver.click(4, user: 1, at: 6 * minute + 1)          // watermark 5:00: [0,5) closes
        try driver.click(5, user: 1, at: 4 * minute + 59_000)    // too late
        try driver.run()
        let rows = try driver.rows("clicks_5m", orderBy: "window_start")
        #expect(rows.map { int($0["clicks"]) } == [2, 2])
        let late = try driver.lateEvents()
        #expect(late.count == 1)
        #expect(int(late.first?["event_time"]) == 4 * minute + 59_000)
        #expect(int(late.first?["watermark"]) == 5 * minute + 1)
        #expect(text(late.first?["topic"]) == "clicks")
        #expect(text(late.first?["value"])?.contains("\"clickId\":5") == true)
    }

    @Test func onCloseEmitsOnceWhenTheWatermarkPasses() throws {
        let driver = try PipelineTestDriver(Self.tumbling(lateness: .minutes(1), emit: .onClose))
        try driver.click(1, user: 1, at: 1 * minute)
        try driver.click(2, user: 1, at: 2 * minute)
        try driver.run()
        #expect(try driver.rows("clicks_5m").isEmpty)
        try driver.advanceWatermark(to: ms(6 * minute - 1))       // watermark 4:59: still open
        #expect(try driver.rows("clicks_5m").isEmpty)
        try driver.advanceWatermark(to: ms(6 * minute))           // watermark 5:00: closes
        #expect(try driver.rows("clicks_5m").map { int($0["clicks"]) } == [2])
        try driver.click(3, user: 1, at: 3 * minute)              // after close: late, not counted
        try driver.run()
        #expect(try driver.rows("clicks_5m").map { int($0["clicks"]) } == [2])
        #expect(try driver.lateEvents().count == 1)
    }

    @Test func hoppingWindowsCountAnEventInEveryWindowHoldingIt() throws {
        let pipeline = Pipeline("hopping", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId)
                .window(.hopping(size: .minutes(10), advance: .minutes(5))) { Count("clicks") }
                .into(ReadView("clicks_10m", primaryKey: ["user_id", "window_start"]))
        }
        let driver = try PipelineTestDriver(pipeline)
        try driver.click(1, user: 1, at: 7 * minute)
        try driver.click(2, user: 1, at: 12 * minute)
        try driver.run()
        let rows = try driver.rows("clicks_10m", orderBy: "window_start")
        #expect(rows.map { int($0["window_start"]) } == [0, 5 * minute, 10 * minute])
        #expect(rows.map { int($0["clicks"]) } == [1, 2, 1])
    }

    @Test func sessionsGrowMergeAndRetractTheRowsTheyReplace() throws {
        let pipeline = Pipeline("sessions", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId)
                .window(.session(gap: .minutes(15)), lateness: .minutes(30)) {
                    Count("clicks")
                    Min("first_page", \.page)
                }
                .into(ReadView("sessions", primaryKey: ["user_id", "window_start"]))
        }
        let driver = try PipelineTestDriver(pipeline)
        try driver.click(1, user: 1, at: 0, page: "/b")
        try driver.click(2, user: 1, at: 20 * minute, page: "/c")     // 20 min apart: two sessions
        try driver.run()
        #expect(try driver.rows("sessions", orderBy: "window_start").map { int($0["clicks"]) } == [1, 1])
        try driver.click(3, user: 1, at: 10 * minute, page: "/a")     // bridges them
        try driver.run()
        let rows = try driver.rows("sessions")
        #expect(rows.count == 1)
        #expect(int(rows.first?["window_start"]) == 0)
        #expect(int(rows.first?["window_end"]) == 20 * minute)
        #expect(int(rows.first?["clicks"]) == 3)
        #expect(text(rows.first?["first_page"]) == "/a")
        try driver.click(4, user: 1, at: -5 * minute, page: "/z")     // extends the start back
        try driver.run()
        let moved = try driver.rows("sessions")
        #expect(moved.map { int($0["window_start"]) } == [-5 * minute])
        #expect(moved.map { int($0["clicks"]) } == [4])
    }

    @Test func everyAggregateComputesWhatItSays() throws {
        let pipeline = Pipeline("aggregates", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId)
                .aggregate {
                    Count("n")
                    Sum("dwell", \.dwellMs)
                    Min("min_dwell", \.dwellMs)
                    Max("max_dwell", \.dwellMs)
                    Average("avg_dwell", \.dwellMs)
                    DistinctCount("pages", \.page)
                    Latest("last_page", \.page)
                    Reduce("longest_page", initial: [String: Int64](), { longest, click in
                        longest[click.page] = max(longest[click.page] ?? 0, click.dwellMs)
                    }, result: { longest in longest.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? "" })
                }
                .into(ReadView("stats", primaryKey: ["user_id"]))
        }
        let driver = try PipelineTestDriver(pipeline, batchSize: 2)
        try driver.click(1, user: 1, at: 30, page: "/a", dwell: 10)
        try driver.click(2, user: 1, at: 10, page: "/b", dwell: 40)
        try driver.click(3, user: 1, at: 20, page: "/a", dwell: 30)
        try driver.run()
        driver.restart()                                               // state reloads from SQLite
        try driver.click(4, user: 1, at: 5, page: "/c", dwell: 20)
        try driver.run()
        let row = try #require(try driver.rows("stats").first)
        #expect(int(row["n"]) == 4)
        #expect(int(row["dwell"]) == 100)
        #expect(int(row["min_dwell"]) == 10)
        #expect(int(row["max_dwell"]) == 40)
        #expect(row["avg_dwell"]?.double == 25)
        #expect(int(row["pages"]) == 3)
        #expect(text(row["last_page"]) == "/a")                       // latest by event time, not arrival
        #expect(text(row["longest_page"]) == "/b")
    }

    @Test func aTopicSinkWritesDerivedEventsThroughTheDerivedOutbox() throws {
        let pipeline = Pipeline("announcer", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId)
                .window(.tumbling(.minutes(5)), emit: .onClose) { Count("clicks") }
                .into(Topic("click-counts", type: "ClicksCounted") { "\($0["user_id", as: Int64.self] ?? 0)" })
        }
        let driver = try PipelineTestDriver(pipeline)
        try driver.click(1, user: 1, at: 0)
        try driver.click(2, user: 1, at: 6 * minute)
        try driver.run()
        let outbox = try driver.store.derived.read { db in
            try Row.fetchAll(db, sql: "SELECT topic, key, type, payload, event_time FROM runnel_outbox")
        }
        #expect(outbox.count == 1)
        #expect(outbox.first?["topic"] == "click-counts")
        #expect(outbox.first?["key"] == "1")
        #expect(outbox.first?["payload"] == #"{"clicks":1,"user_id":1,"window_end":300000,"window_start":0}"#)
    }

    @Test func aWrongDefinitionIsRefusedWithWhatToDo() throws {
        let pipeline = Pipeline("broken", version: 1, description: "test") {
            Source("clicks", as: Click.self, type: "Click", time: \.at)
                .keyBy("user_id", \.userId)
                .aggregate { Count("n") }
                .into(ReadView("stats", primaryKey: ["no_such_column"]))
        }
        let error = #expect(throws: RunnelError.self) { try PipelineTestDriver(pipeline).run() }
        #expect(error?.description.contains("no_such_column") == true)
    }
}
