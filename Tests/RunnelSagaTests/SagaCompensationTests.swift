import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

/// Compensations are sent again while refused or unanswered, up to their attempts; after the last
/// the instance is `failed`, waiting for an operator, who can `retry` it; an operator can also
/// `abort` a running instance.
@Suite struct SagaCompensationTests {
    /// Compensations get 3 attempts, 1 s then 2 s apart.
    static func startedTrip(_ trip: Int) throws -> SagaTestDriver {
        let driver = try SagaTestDriver(TripSaga.saga(timeout: .seconds(30), retry: .attempts(3, backoff: .seconds(1)),
                                                      compensationRetry: .attempts(3, backoff: .seconds(1))))
        try driver.start(TripBooked(tripId: trip, traveller: "lee"), key: "\(trip)")
        try driver.run()
        return driver
    }

    /// Refuses the flight's cancellation in hand, then waits out the backoff before the next.
    static func refuseCancellation(_ driver: SagaTestDriver, trip: Int, backoff: Duration) throws {
        try driver.reply(to: try driver.latest("CancelFlight", trip: trip), with: CancelRefused(tripId: trip))
        try driver.run()
        try driver.advance(by: backoff)
    }

    @Test(arguments: [1, 2])
    func aCompensationRefusedWithinItsAttemptsEndsCompensated(refusals: Int) throws {
        let driver = try Self.startedTrip(20)
        try driver.complete(.flight, trip: 20)
        try driver.fail(.hotel, trip: 20)
        for refusal in 1...refusals {
            try Self.refuseCancellation(driver, trip: 20, backoff: refusal == 1 ? .seconds(1) : .seconds(2))
        }
        try driver.undo(.flight, trip: 20)

        let instance = try #require(try driver.instance("20"))
        #expect(instance.state == .compensated)
        let cancels = try driver.commands("CancelFlight", trip: 20)
        #expect(cancels.map(\.attempt) == Array(1...(refusals + 1)))
        #expect(Set(cancels.map(\.commandID)) == ["trip:20/0/undo"])
        #expect(try driver.kinds("20").filter { $0 == "compensation-reply" }.count == refusals + 1)
        #expect(try driver.store.app.read { try SagaRecords.list(in: $0, state: .failed) }.isEmpty)
    }

    @Test func aCompensationAlwaysRefusedFailsTheSagaUntilAnOperatorRetries() throws {
        let driver = try Self.startedTrip(21)
        try driver.complete(.flight, trip: 21)
        try driver.fail(.hotel, trip: 21)
        try Self.refuseCancellation(driver, trip: 21, backoff: .seconds(1))
        try Self.refuseCancellation(driver, trip: 21, backoff: .seconds(2))
        try Self.refuseCancellation(driver, trip: 21, backoff: .seconds(3600))

        let failed = try driver.store.app.read { try SagaRecords.list(in: $0, state: .failed) }
        #expect(failed.map(\.id) == ["trip:21"])
        #expect(failed.first?.reason == "the compensation of step flight refused (CancelRefused) after 3 attempts")
        #expect(try driver.kinds("21").last == "failed")
        // Nothing more is sent while it waits for an operator, however long.
        #expect(try driver.commands("CancelFlight", trip: 21).count == 3)
        #expect(try driver.advance(by: .seconds(86_400)).isEmpty)

        try driver.retry("21")
        try driver.run()
        let resent = try driver.commands("CancelFlight", trip: 21)
        #expect(resent.count == 4)
        #expect(resent.last?.attempt == 1)
        #expect(resent.last?.commandID == "trip:21/0/undo")
        #expect(try driver.instance("21")?.state == .compensating)
        try driver.undo(.flight, trip: 21)
        #expect(try driver.instance("21")?.state == .compensated)
        #expect(try driver.kinds("21").suffix(5) == ["failed", "retried", "compensation", "compensation-reply", "compensated"])
        #expect(try driver.store.app.read { try SagaRecords.list(in: $0, state: .failed) }.isEmpty)
    }

    @Test func aLateSuccessfulCompensationOfAFailedSagaResumesCompensating() throws {
        let driver = try Self.startedTrip(22)
        try driver.complete(.flight, trip: 22)
        try driver.complete(.hotel, trip: 22)
        try driver.fail(.car, trip: 22)
        // The hotel's cancellation goes unanswered on all 3 attempts.
        try driver.advance(by: .seconds(30))
        try driver.advance(by: .seconds(1))
        try driver.advance(by: .seconds(30))
        try driver.advance(by: .seconds(2))
        try driver.advance(by: .seconds(30))
        #expect(try driver.instance("22")?.state == .failed)
        #expect(try driver.commands("CancelFlight", trip: 22).isEmpty)

        try driver.undo(.hotel, trip: 22)
        #expect(try driver.instance("22")?.state == .compensating)
        #expect(try driver.store.app.read { try SagaRecords.list(in: $0, state: .failed) }.isEmpty)
        #expect(try driver.commands("CancelFlight", trip: 22).count == 1)
        try driver.undo(.flight, trip: 22)
        #expect(try driver.instance("22")?.state == .compensated)
        #expect(try driver.commands("CancelHotel", trip: 22).count == 3)
    }

    @Test func abortingARunningSagaUndoesItsCompletedSteps() throws {
        let driver = try Self.startedTrip(23)
        try driver.complete(.flight, trip: 23)
        try driver.abort("23", reason: "traveller cancelled")
        try driver.run()
        let instance = try #require(try driver.instance("23"))
        #expect(instance.state == .compensating)
        #expect(instance.reason == "aborted: traveller cancelled")
        #expect(try driver.commands("CancelFlight", trip: 23).count == 1)
        #expect(try driver.commands("CancelHotel", trip: 23).isEmpty)

        // The hotel, given up by the abort, answers after all: late, and undone too, once the
        // compensation in hand (the flight's) is answered.
        try driver.complete(.hotel, trip: 23)
        #expect(try driver.commands("CancelHotel", trip: 23).isEmpty)
        try driver.undo(.flight, trip: 23)
        #expect(try driver.commands("CancelHotel", trip: 23).count == 1)
        #expect(try driver.instance("23")?.state == .compensating)
        try driver.undo(.hotel, trip: 23)
        #expect(try driver.instance("23")?.state == .compensated)
        #expect(try driver.commands("CancelFlight", trip: 23).count == 1 && driver.commands("CancelHotel", trip: 23).count == 1)
        #expect(try driver.kinds("23").contains("aborted"))
        #expect(try driver.commands("RentCar", trip: 23).isEmpty)
    }

    @Test func operatorActionsOnTheWrongStateAreRefused() throws {
        let driver = try Self.startedTrip(24)
        #expect(Self.code { try driver.retry("24") } == .saga)
        for step in TripStep.allCases { try driver.complete(step, trip: 24) }
        #expect(try driver.instance("24")?.state == .completed)
        let timeline = try driver.timeline("24")
        #expect(Self.code { try driver.abort("24") } == .saga)
        #expect(Self.code { try driver.retry("24") } == .saga)
        #expect(Self.code { try driver.abort("404") } == .notFound)
        #expect(try driver.timeline("24") == timeline)
        #expect(try driver.instance("24")?.state == .completed)
    }

    /// The code of the RunnelError `body` throws, or nil.
    static func code(_ body: () throws -> Void) -> RunnelError.Code? {
        do {
            try body()
            return nil
        } catch {
            return (error as? RunnelError)?.code
        }
    }
}
