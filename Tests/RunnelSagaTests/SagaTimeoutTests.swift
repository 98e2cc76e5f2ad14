import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

/// A step whose participant never answers is sent again (same command id, next attempt) after
/// each timeout and backoff, then fails and the completed steps are undone; answers that come
/// after that are recorded as late and, for a completion, undone.
@Suite struct SagaTimeoutTests {
    /// 30 s for each reply, 3 attempts with 1 s then 2 s between them.
    static func saga() -> Saga { TripSaga.saga(timeout: .seconds(30), retry: .attempts(3, backoff: .seconds(1))) }

    /// Lets every attempt of the step in hand time out: 30 s, 1 s, 30 s, 2 s, 30 s.
    static func letEveryAttemptTimeOut(_ driver: SagaTestDriver) throws {
        try driver.advance(by: .seconds(30))
        try driver.advance(by: .seconds(1))
        try driver.advance(by: .seconds(30))
        try driver.advance(by: .seconds(2))
        try driver.advance(by: .seconds(30))
    }

    @Test(arguments: TripStep.allCases)
    func anUnansweredStepIsRetriedWithTheSameIdThenUndone(silent: TripStep) throws {
        let driver = try SagaTestDriver(Self.saga())
        try driver.start(TripBooked(tripId: 7, traveller: "gus"), key: "7")
        try driver.run()
        for step in silent.before { try driver.complete(step, trip: 7) }

        // Before the first timeout, no retry.
        try driver.advance(by: .seconds(29))
        #expect(try driver.commands(silent.commandType, trip: 7).count == 1)
        try driver.advance(by: .seconds(1))
        // The timeout waits for the backoff before sending again.
        #expect(try driver.commands(silent.commandType, trip: 7).count == 1)
        try driver.advance(by: .seconds(1))
        #expect(try driver.commands(silent.commandType, trip: 7).count == 2)
        try driver.advance(by: .seconds(30))
        try driver.advance(by: .seconds(2))
        try driver.advance(by: .seconds(30))

        let attempts = try driver.commands(silent.commandType, trip: 7)
        #expect(attempts.map(\.attempt) == [1, 2, 3])
        #expect(Set(attempts.map(\.commandID)) == ["trip:7/\(silent.rawValue)/do"])
        let timeline = try driver.timeline("7")
        #expect(timeline.filter { $0.kind == "timeout" }.count == 3)
        #expect(timeline.filter { $0.kind == "retry" }.map(\.detail) == ["attempt 2", "attempt 3"])

        // Undone: the steps before, last first; the silent one is not compensated.
        for step in silent.before.reversed() {
            #expect(try driver.instance("7")?.state == .compensating)
            try driver.undo(step, trip: 7)
        }
        let instance = try #require(try driver.instance("7"))
        #expect(instance.state == .compensated)
        #expect(instance.reason == "step \(silent.kind) timed out after 3 attempts")
        #expect(try driver.timeline("7").filter { $0.kind == "compensation" }.map(\.type) == silent.before.reversed().map(\.compensationType))
        #expect(try driver.commands(silent.compensationType, trip: 7).isEmpty)

        // The participant did it after all: the completion is late, and the step is undone, once.
        try driver.complete(silent, trip: 7)
        #expect(try driver.kinds("7").suffix(2) == ["late", "compensation"])
        let late = try #require(try driver.commands(silent.compensationType, trip: 7).first)
        #expect(late.commandID == "trip:7/\(silent.rawValue)/undo")
        try driver.complete(silent, trip: 7)
        #expect(try driver.kinds("7").last == "duplicate")
        #expect(try driver.commands(silent.compensationType, trip: 7).count == 1)
        // That compensation is awaited like any other: compensated once it is answered.
        #expect(try driver.instance("7")?.state == .compensating)
        try driver.undo(silent, trip: 7)
        #expect(try driver.instance("7")?.state == .compensated)
        #expect(try driver.commands(silent.compensationType, trip: 7).count == 1)
    }

    @Test func aLateFailureIsRecordedAndNothingIsSent() throws {
        let driver = try SagaTestDriver(Self.saga())
        try driver.start(TripBooked(tripId: 8, traveller: "hal"), key: "8")
        try driver.run()
        try driver.complete(.flight, trip: 8)
        try Self.letEveryAttemptTimeOut(driver)
        try driver.undo(.flight, trip: 8)
        let sent = try driver.commands().count

        try driver.fail(.hotel, trip: 8)
        #expect(try driver.kinds("8").last == "late")
        #expect(try driver.commands().count == sent)
        #expect(try driver.instance("8")?.state == .compensated)
    }

    @Test func noTimeoutFiresAfterTheSagaCompleted() throws {
        let driver = try SagaTestDriver(Self.saga())
        try driver.start(TripBooked(tripId: 9, traveller: "ida"), key: "9")
        try driver.run()
        for step in TripStep.allCases { try driver.complete(step, trip: 9) }
        #expect(try driver.instance("9")?.state == .completed)
        let timeline = try driver.timeline("9")
        let sent = try driver.commands()

        for span: Duration in [.seconds(30), .seconds(1), .seconds(60), .seconds(86_400 * 30)] {
            #expect(try driver.advance(by: span).isEmpty)
        }
        #expect(try driver.timeline("9") == timeline)
        #expect(try driver.commands() == sent)
        #expect(try driver.instance("9")?.deadline == nil)
        #expect(try driver.instance("9")?.state == .completed)
    }

    @Test func aReplyInTheBackoffCompletesTheStepAndCancelsTheRetry() throws {
        let driver = try SagaTestDriver(Self.saga())
        try driver.start(TripBooked(tripId: 10, traveller: "jo"), key: "10")
        try driver.run()
        try driver.advance(by: .seconds(30))
        // Timed out, waiting 1 s to send again: the reply to the first attempt comes now.
        try driver.complete(.flight, trip: 10)
        try driver.advance(by: .seconds(1))
        #expect(try driver.commands("BookFlight", trip: 10).count == 1)
        #expect(try driver.instance("10")?.awaiting == "trip:10/1/do")
        #expect(try driver.kinds("10") == ["started", "command", "timeout", "reply", "command"])
    }
}
