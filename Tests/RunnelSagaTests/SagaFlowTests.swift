import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

@Suite struct SagaFlowTests {
    @Test func everyStepCompletesWithRealHandlers() throws {
        let driver = try SagaTestDriver(TripSaga.saga(), handlers: TripSaga.handlers, migrations: TripSaga.migrations)
        try driver.start(TripBooked(tripId: 1, traveller: "ada"), key: "1")
        try driver.run()
        let instance = try #require(try driver.instance("1"))
        #expect(instance.state == .completed)
        #expect(instance.data.contains("\"flightRef\":\"F1\""))
        #expect(try driver.kinds("1") == ["started", "command", "reply", "command", "reply", "command", "reply", "completed"])
        #expect(try driver.query("SELECT kind || ':' || action AS what FROM bookings ORDER BY rowid").map { $0["what"] } == ["flight:book", "hotel:book", "car:book"])
    }

    @Test func aFailedLastStepUndoesTheOthersInReverse() throws {
        let driver = try SagaTestDriver(TripSaga.saga(), handlers: TripSaga.handlers, migrations: TripSaga.migrations)
        _ = try driver.store.app.write { try $0.execute(sql: "INSERT INTO full_trips VALUES (2, 'car')") }
        try driver.start(TripBooked(tripId: 2, traveller: "bob"), key: "2")
        try driver.run()
        #expect(try driver.instance("2")?.state == .compensated)
        #expect(try driver.query("SELECT kind || ':' || action AS what FROM bookings ORDER BY rowid").map { $0["what"] }
                == ["flight:book", "hotel:book", "hotel:cancel", "flight:cancel"])
        let cancel = try #require(try driver.commands(type: "CancelFlight").first?.decode(as: CancelFlight.self))
        #expect(cancel.reference == "F2")
    }
}
