import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

/// A step whose effect happened after the saga stopped waiting for it is undone, with what its
/// completion said, whatever came before that completion.
@Suite struct SagaLateCompletionTests {
    @Test func aLateCompletionIsUndoneWithWhatItsReplySaid() throws {
        let driver = try SagaTestDriver(SagaTimeoutTests.saga())
        try driver.start(TripBooked(tripId: 31, traveller: "ida"), key: "31")
        try driver.run()
        try SagaTimeoutTests.letEveryAttemptTimeOut(driver)
        #expect(try driver.instance("31")?.state == .compensated)
        // The flight was booked after all: its cancellation names the booking's reference,
        // which only the late reply carried.
        try driver.complete(.flight, trip: 31)
        let cancel = try #require(try driver.commands("CancelFlight", trip: 31).first?.decode(as: CancelFlight.self))
        #expect(cancel.reference == "F31")
        #expect(try driver.instance("31")?.state == .compensating)
        try driver.undo(.flight, trip: 31)
        #expect(try driver.instance("31")?.state == .compensated)
    }

    @Test func aCompletionAfterARefusalOfTheSameCommandIsUndone() throws {
        let driver = try SagaTestDriver(SagaTimeoutTests.saga())
        try driver.start(TripBooked(tripId: 32, traveller: "jo"), key: "32")
        try driver.run()
        try driver.advance(by: .seconds(30))
        try driver.advance(by: .seconds(1))   // attempt 2 of the same command goes out
        // Attempt 1 was refused, attempt 2 carried out: the refusal comes first.
        try driver.fail(.flight, trip: 32)
        #expect(try driver.instance("32")?.state == .compensated)
        try driver.complete(.flight, trip: 32)
        #expect(try driver.kinds("32").suffix(2) == ["late", "compensation"])
        #expect(try driver.commands("CancelFlight", trip: 32).count == 1)
        try driver.undo(.flight, trip: 32)
        #expect(try driver.instance("32")?.state == .compensated)
        // A second copy of the completion changes nothing.
        try driver.complete(.flight, trip: 32)
        #expect(try driver.kinds("32").last == "duplicate")
        #expect(try driver.commands("CancelFlight", trip: 32).count == 1)
    }

    @Test func twoSagasCannotShareAReplyTopic() {
        let first = TripSaga.saga()
        let second = Saga("trip-copy", startedBy: "trips", on: TripBooked.self, replies: first.replyTopic, id: { "\($0.tripId)" },
                          state: { TripState(tripId: $0.tripId, traveller: $0.traveller) }) {
            SagaStep<TripState>("flight", to: "flight-commands") { BookFlight(tripId: $0.tripId) }
                .completed(by: FlightBooked.self)
        }
        #expect(throws: RunnelError.self) { try Catalog(name: "shared", sagas: [first, second]).validate() }
    }
}
