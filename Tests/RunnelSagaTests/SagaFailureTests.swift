import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

/// A step that fails undoes exactly the steps completed before it, last first, each once; the
/// failing step itself, never completed, is not undone.
@Suite struct SagaFailureTests {
    @Test(arguments: TripStep.allCases)
    func aFailedStepUndoesOnlyTheCompletedOnesInReverseOnce(failing: TripStep) throws {
        let driver = try SagaTestDriver(TripSaga.saga(), handlers: TripSaga.handlers, migrations: TripSaga.migrations)
        _ = try driver.store.app.write { try $0.execute(sql: "INSERT INTO full_trips VALUES (5, ?)", arguments: [failing.kind]) }
        try driver.start(TripBooked(tripId: 5, traveller: "eve"), key: "5")
        try driver.run()

        let instance = try #require(try driver.instance("5"))
        #expect(instance.state == .compensated)
        #expect(instance.reason == "step \(failing.kind) failed: \(["FlightFull", "HotelFull", "NoCar"][failing.rawValue])")
        let undone = failing.before.reversed()
        // The business rows: each completed step booked and cancelled once, the failing one never booked.
        #expect(try driver.query("SELECT kind || ':' || action AS what FROM bookings ORDER BY rowid").map { $0["what"]?.string }
                == failing.before.map { "\($0.kind):book" } + undone.map { "\($0.kind):cancel" })
        // The commands: one compensation per completed step, none for the others.
        for step in TripStep.allCases {
            #expect(try driver.commands(step.compensationType, trip: 5).count == (step.rawValue < failing.rawValue ? 1 : 0), "\(step)")
            #expect(try driver.commands(step.commandType, trip: 5).count == (step.rawValue <= failing.rawValue ? 1 : 0), "\(step)")
        }
        // The timeline: compensations in reverse order, each answered once.
        let timeline = try driver.timeline("5")
        #expect(timeline.filter { $0.kind == "compensation" }.map(\.type) == undone.map(\.compensationType))
        #expect(timeline.filter { $0.kind == "compensation" }.map(\.commandID) == undone.map { "trip:5/\($0.rawValue)/undo" })
        var expected = ["started"]
        for _ in 0...failing.rawValue { expected += ["command", "reply"] }
        for _ in 0..<failing.rawValue { expected += ["compensation", "compensation-reply"] }
        expected.append("compensated")
        #expect(timeline.map(\.kind) == expected)
    }

    @Test func aStepWithoutCompensationIsSkippedAndRecorded() throws {
        // The hotel cannot be cancelled in this variant: a failed car undoes the flight only.
        let saga = Saga("trip", startedBy: "trips", on: TripBooked.self, id: { "\($0.tripId)" }, state: { TripState(tripId: $0.tripId, traveller: $0.traveller) }) {
            SagaStep<TripState>("flight", to: "flight-commands") { BookFlight(tripId: $0.tripId) }
                .completed(by: FlightBooked.self)
                .compensate(to: "flight-commands") { CancelFlight(tripId: $0.tripId, reference: $0.flightRef) }
                .compensated(by: FlightCancelled.self)
            SagaStep<TripState>("hotel", to: "hotel-commands") { BookHotel(tripId: $0.tripId) }
                .completed(by: HotelBooked.self)
            SagaStep<TripState>("car", to: "car-commands") { RentCar(tripId: $0.tripId) }
                .completed(by: CarRented.self)
                .failed(by: NoCar.self)
        }
        let driver = try SagaTestDriver(saga)
        try driver.start(TripBooked(tripId: 6, traveller: "fay"), key: "6")
        try driver.run()
        try driver.complete(.flight, trip: 6)
        try driver.complete(.hotel, trip: 6)
        try driver.fail(.car, trip: 6)
        #expect(try driver.commands("CancelHotel", trip: 6).isEmpty)
        try driver.undo(.flight, trip: 6)
        #expect(try driver.instance("6")?.state == .compensated)
        #expect(try driver.kinds("6").suffix(4) == ["no-compensation", "compensation", "compensation-reply", "compensated"])
        #expect(try driver.timeline("6").first { $0.kind == "no-compensation" }?.step == 1)
    }
}
