import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

/// Replies the saga does not await — a second copy, an older attempt's answer coming last, an
/// instance, command or type it does not know — and a second start event are recorded and change
/// nothing.
@Suite struct SagaReplyTests {
    static func startedTrip(_ trip: Int) throws -> SagaTestDriver {
        let driver = try SagaTestDriver(TripSaga.saga(timeout: .seconds(30), retry: .attempts(3, backoff: .seconds(1))))
        try driver.start(TripBooked(tripId: trip, traveller: "kim"), key: "\(trip)")
        try driver.run()
        return driver
    }

    @Test func aReplyTwiceIsADuplicateAndChangesNothing() throws {
        let driver = try Self.startedTrip(11)
        let book = try driver.latest("BookFlight", trip: 11)
        try driver.reply(to: book, with: FlightBooked(tripId: 11, reference: "F11"))
        try driver.run()
        let after = try driver.position(11)
        #expect(after.first == "running")

        try driver.reply(to: book, with: FlightBooked(tripId: 11, reference: "F-other"))
        try driver.run()
        #expect(try driver.position(11) == after)
        #expect(try driver.kinds("11").suffix(2) == ["command", "duplicate"])
        #expect(try driver.commands("BookHotel", trip: 11).count == 1)
        #expect(try driver.instance("11")?.data.contains("\"flightRef\":\"F11\"") == true)
    }

    @Test func aDuplicateFailureAfterCompensationBeganSendsNothingMore() throws {
        let driver = try Self.startedTrip(12)
        try driver.complete(.flight, trip: 12)
        try driver.fail(.hotel, trip: 12)
        let after = try driver.position(12)
        try driver.fail(.hotel, trip: 12)
        #expect(try driver.position(12) == after)
        #expect(try driver.kinds("12").last == "duplicate")
        #expect(try driver.commands("CancelFlight", trip: 12).count == 1)
    }

    @Test func anOlderAttemptsReplyComingLastIsADuplicate() throws {
        let driver = try Self.startedTrip(13)
        try driver.advance(by: .seconds(30))
        try driver.advance(by: .seconds(1))
        let attempts = try driver.commands("BookFlight", trip: 13)
        #expect(attempts.map(\.attempt) == [1, 2])
        // Attempt 2 is answered first, then attempt 1's refusal arrives.
        try driver.reply(to: attempts[1], with: FlightBooked(tripId: 13, reference: "F13-2"))
        try driver.run()
        let after = try driver.position(13)
        try driver.reply(to: attempts[0], with: FlightFull(tripId: 13))
        try driver.run()
        #expect(try driver.position(13) == after)
        #expect(try driver.kinds("13").last == "duplicate")
        #expect(try driver.instance("13")?.state == .running)
        #expect(try driver.instance("13")?.data.contains("\"flightRef\":\"F13-2\"") == true)
        #expect(try driver.commands("CancelFlight", trip: 13).isEmpty)
    }

    @Test func aReplyForAnUnknownInstanceIsRecordedUnderItsId() throws {
        let driver = try Self.startedTrip(14)
        let before = try driver.position(14)
        try driver.replyRaw(sagaID: "trip:404", commandID: "trip:404/0/do", with: FlightBooked(tripId: 404, reference: "F404"))
        #expect(try driver.instance("404") == nil)
        let entry = try #require(try driver.timeline("404").only)
        #expect(entry.kind == "unknown")
        #expect(entry.detail?.hasPrefix("no saga instance trip:404") == true)
        #expect(try driver.position(14) == before)
        #expect(try driver.commands(type: "BookHotel").isEmpty)
    }

    @Test(arguments: ["trip:15/7/do", "trip:15/2/do", "trip:15/0/undo", "not-a-command"])
    func aReplyToACommandTheInstanceNeverSentIsUnknown(commandID: String) throws {
        let driver = try Self.startedTrip(15)
        let before = try driver.position(15)
        try driver.replyRaw(sagaID: "trip:15", commandID: commandID, with: FlightBooked(tripId: 15, reference: "F15"))
        #expect(try driver.position(15) == before)
        let last = try #require(try driver.timeline("15").last)
        #expect(last.kind == "unknown")
        #expect(last.commandID == commandID)
        #expect(try driver.commands(type: "BookHotel").isEmpty)
    }

    @Test func aReplyOfATypeTheStepDoesNotDeclareIsUnknownAndTheStepStillWaits() throws {
        let driver = try Self.startedTrip(16)
        let book = try driver.latest("BookFlight", trip: 16)
        let before = try driver.position(16)
        try driver.reply(to: book, with: HotelBooked(tripId: 16))
        try driver.run()
        #expect(try driver.position(16) == before)
        let last = try #require(try driver.timeline("16").last)
        #expect(last.kind == "unknown")
        #expect(last.type == "HotelBooked")
        #expect(try driver.commands(type: "BookHotel").isEmpty)
        // The declared reply still completes the step.
        try driver.complete(.flight, trip: 16)
        #expect(try driver.commands("BookHotel", trip: 16).count == 1)
    }

    @Test func aSecondStartEventForTheSameIdIsRecordedAndIgnored() throws {
        let driver = try Self.startedTrip(17)
        try driver.start(TripBooked(tripId: 17, traveller: "someone-else"), key: "17")
        try driver.run()
        #expect(try driver.kinds("17") == ["started", "command", "duplicate-start"])
        #expect(try driver.commands("BookFlight", trip: 17).count == 1)
        #expect(try driver.instance("17")?.data.contains("\"traveller\":\"kim\"") == true)
        #expect(try driver.query("SELECT count(*) AS n FROM runnel_sagas").first?["n"] == 1)
    }
}

extension Collection {
    /// The only element, or nil when there are none or several.
    var only: Element? { count == 1 ? first : nil }
}

/// A reply of a declared type whose payload does not decode cannot stop the saga: it is
/// dead-lettered and the step keeps waiting for a good one.
@Suite struct SagaUndecodableReplyTests {
    @Test func aCompletingReplyThatDoesNotDecodeIsDeadLetteredAndTheSagaGoesOn() throws {
        let driver = try SagaReplyTests.startedTrip(18)
        let book = try driver.latest("BookFlight", trip: 18)
        let before = try driver.position(18)
        try driver.reply(to: book, with: ["tripId": "eighteen"], type: "FlightBooked")
        try driver.run()
        #expect(try driver.position(18) == before)
        let letters = try driver.query("SELECT consumer, type, reason FROM runnel_consumer_dead_letters")
        #expect(letters.map { $0["consumer"] } == ["saga:trip"])
        #expect(letters.first?["reason"]?.string?.contains("FlightBooked") == true)
        // A good reply after it still completes the step.
        try driver.complete(.flight, trip: 18)
        #expect(try driver.commands("BookHotel", trip: 18).count == 1)
    }
}
