import Foundation
import GRDB
import Runnel
import RunnelTesting
import Testing

// A small saga for the tests: book a trip in three steps (flight, hotel, car), each with a
// compensation. `TripParticipants` are handlers that do it for real in business tables; tests
// that want to steer each reply answer commands themselves instead.

struct TripBooked: Codable, Sendable { var tripId: Int; var traveller: String }
struct TripState: Codable, Sendable, Equatable { var tripId: Int; var traveller: String; var flightRef: String? }

struct BookFlight: Codable, Sendable { var tripId: Int }
struct FlightBooked: Codable, Sendable { var tripId: Int; var reference: String }
struct FlightFull: Codable, Sendable { var tripId: Int }
struct CancelFlight: Codable, Sendable { var tripId: Int; var reference: String? }
struct FlightCancelled: Codable, Sendable { var tripId: Int }
struct CancelRefused: Codable, Sendable { var tripId: Int }

struct BookHotel: Codable, Sendable { var tripId: Int }
struct HotelBooked: Codable, Sendable { var tripId: Int }
struct HotelFull: Codable, Sendable { var tripId: Int }
struct CancelHotel: Codable, Sendable { var tripId: Int }
struct HotelCancelled: Codable, Sendable { var tripId: Int }

struct RentCar: Codable, Sendable { var tripId: Int }
struct CarRented: Codable, Sendable { var tripId: Int }
struct NoCar: Codable, Sendable { var tripId: Int }
struct ReturnCar: Codable, Sendable { var tripId: Int }
struct CarReturned: Codable, Sendable { var tripId: Int }

enum TripSaga {
    static func saga(timeout: Duration = .seconds(30), retry: SagaRetry = .attempts(3), compensationRetry: SagaRetry = .attempts(3)) -> Saga {
        Saga("trip", startedBy: "trips", on: TripBooked.self, id: { "\($0.tripId)" }, state: { TripState(tripId: $0.tripId, traveller: $0.traveller) }) {
            SagaStep<TripState>("flight", to: "flight-commands") { BookFlight(tripId: $0.tripId) }
                .completed(by: FlightBooked.self) { state, booked in state.flightRef = booked.reference }
                .failed(by: FlightFull.self)
                .timeout(timeout, retry: retry)
                .compensate(to: "flight-commands") { CancelFlight(tripId: $0.tripId, reference: $0.flightRef) }
                .compensated(by: FlightCancelled.self)
                .compensationFailed(by: CancelRefused.self)
                .compensationTimeout(timeout, retry: compensationRetry)
            SagaStep<TripState>("hotel", to: "hotel-commands") { BookHotel(tripId: $0.tripId) }
                .completed(by: HotelBooked.self)
                .failed(by: HotelFull.self)
                .timeout(timeout, retry: retry)
                .compensate(to: "hotel-commands") { CancelHotel(tripId: $0.tripId) }
                .compensated(by: HotelCancelled.self)
                .compensationTimeout(timeout, retry: compensationRetry)
            SagaStep<TripState>("car", to: "car-commands") { RentCar(tripId: $0.tripId) }
                .completed(by: CarRented.self)
                .failed(by: NoCar.self)
                .timeout(timeout, retry: retry)
                .compensate(to: "car-commands") { ReturnCar(tripId: $0.tripId) }
                .compensated(by: CarReturned.self)
                .compensationTimeout(timeout, retry: compensationRetry)
        }
    }

    static let migrations = Migrations.embedded(["0001_trips.sql": Array("""
        CREATE TABLE bookings (trip_id INTEGER NOT NULL, kind TEXT NOT NULL, action TEXT NOT NULL, command_id TEXT NOT NULL);
        CREATE TABLE full_trips (trip_id INTEGER PRIMARY KEY, kind TEXT NOT NULL);
        CREATE TABLE cancel_refusals (trip_id INTEGER PRIMARY KEY, remaining INTEGER NOT NULL);
        """.utf8)])

    /// Handlers that book for real: each writes a `bookings` row per command it carries out,
    /// and refuses trips listed in `full_trips` for its kind. The flight desk refuses to cancel
    /// a trip's flight while its `cancel_refusals.remaining` is above 0 (counting it down).
    static var handlers: [Handler] {
        [
            Handler("flights", reads: "flight-commands") {
                On(BookFlight.self) { command, context in
                    if try isFull(command.tripId, "flight", context) { return try context.fail(FlightFull(tripId: command.tripId)) }
                    try record(command.tripId, "flight", "book", context)
                    try context.reply(FlightBooked(tripId: command.tripId, reference: "F\(command.tripId)"))
                }
                On(CancelFlight.self) { command, context in
                    if let remaining = try Int.fetchOne(context.db, sql: "SELECT remaining FROM cancel_refusals WHERE trip_id = ?", arguments: [command.tripId]),
                       remaining > 0 {
                        try context.db.execute(sql: "UPDATE cancel_refusals SET remaining = remaining - 1 WHERE trip_id = ?", arguments: [command.tripId])
                        return try context.fail(CancelRefused(tripId: command.tripId))
                    }
                    try record(command.tripId, "flight", "cancel", context)
                    try context.reply(FlightCancelled(tripId: command.tripId))
                }
            },
            Handler("hotels", reads: "hotel-commands") {
                On(BookHotel.self) { command, context in
                    if try isFull(command.tripId, "hotel", context) { return try context.fail(HotelFull(tripId: command.tripId)) }
                    try record(command.tripId, "hotel", "book", context)
                    try context.reply(HotelBooked(tripId: command.tripId))
                }
                On(CancelHotel.self) { command, context in
                    try record(command.tripId, "hotel", "cancel", context)
                    try context.reply(HotelCancelled(tripId: command.tripId))
                }
            },
            Handler("cars", reads: "car-commands") {
                On(RentCar.self) { command, context in
                    if try isFull(command.tripId, "car", context) { return try context.fail(NoCar(tripId: command.tripId)) }
                    try record(command.tripId, "car", "book", context)
                    try context.reply(CarRented(tripId: command.tripId))
                }
                On(ReturnCar.self) { command, context in
                    try record(command.tripId, "car", "cancel", context)
                    try context.reply(CarReturned(tripId: command.tripId))
                }
            },
        ]
    }

    private static func isFull(_ trip: Int, _ kind: String, _ context: HandlerContext) throws -> Bool {
        try Bool.fetchOne(context.db, sql: "SELECT 1 FROM full_trips WHERE trip_id = ? AND kind = ?", arguments: [trip, kind]) ?? false
    }

    private static func record(_ trip: Int, _ kind: String, _ action: String, _ context: HandlerContext) throws {
        try context.db.execute(sql: "INSERT INTO bookings (trip_id, kind, action, command_id) VALUES (?, ?, ?, ?)",
                               arguments: [trip, kind, action, context.commandID])
    }
}

/// The trip saga's steps as tests steer them: what each sends and the replies that answer it.
enum TripStep: Int, CaseIterable, Sendable, CustomTestStringConvertible {
    case flight, hotel, car

    var testDescription: String { "\(self)" }

    var commandType: String { ["BookFlight", "BookHotel", "RentCar"][rawValue] }
    var compensationType: String { ["CancelFlight", "CancelHotel", "ReturnCar"][rawValue] }
    /// The `full_trips.kind` (and `bookings.kind`) of the step's participant.
    var kind: String { ["flight", "hotel", "car"][rawValue] }

    /// The steps before this one, which complete before it is sent.
    var before: [TripStep] { Self.allCases.filter { $0.rawValue < rawValue } }
}

extension SagaTestDriver {
    /// The commands sent for one trip, of one type.
    func commands(_ type: String, trip: Int) throws -> [SentCommand] {
        try commands(type: type).filter { $0.sagaID == "trip:\(trip)" }
    }

    /// The latest command of `type` for `trip`.
    func latest(_ type: String, trip: Int) throws -> SentCommand {
        guard let found = try commands(type, trip: trip).last else {
            throw RunnelError(.notFound, "no \(type) was sent for trip \(trip)")
        }
        return found
    }

    /// Answers the step's latest command with the reply that completes it, and runs.
    func complete(_ step: TripStep, trip: Int) throws {
        let command = try latest(step.commandType, trip: trip)
        switch step {
        case .flight: try reply(to: command, with: FlightBooked(tripId: trip, reference: "F\(trip)"))
        case .hotel: try reply(to: command, with: HotelBooked(tripId: trip))
        case .car: try reply(to: command, with: CarRented(tripId: trip))
        }
        try run()
    }

    /// Answers the step's latest command with the reply that fails it, and runs.
    func fail(_ step: TripStep, trip: Int) throws {
        let command = try latest(step.commandType, trip: trip)
        switch step {
        case .flight: try reply(to: command, with: FlightFull(tripId: trip))
        case .hotel: try reply(to: command, with: HotelFull(tripId: trip))
        case .car: try reply(to: command, with: NoCar(tripId: trip))
        }
        try run()
    }

    /// Answers the step's latest compensation with the reply that completes it, and runs.
    func undo(_ step: TripStep, trip: Int) throws {
        let command = try latest(step.compensationType, trip: trip)
        switch step {
        case .flight: try reply(to: command, with: FlightCancelled(tripId: trip))
        case .hotel: try reply(to: command, with: HotelCancelled(tripId: trip))
        case .car: try reply(to: command, with: CarReturned(tripId: trip))
        }
        try run()
    }

    /// Sends a reply with the headers a handler's `context.reply` gives, for any instance and
    /// command id (ones the saga never sent included), and runs.
    func replyRaw<Reply: Encodable & Sendable>(sagaID: String, commandID: String, with reply: Reply) throws {
        try send(OutboxEvent(topic: saga.replyTopic, key: sagaID, type: String(describing: Reply.self), payload: reply,
                             headers: [SagaHeader.sagaID: sagaID, SagaHeader.commandID: commandID], eventTime: clock.now()))
        try run()
    }

    /// What an instance is, beyond its timeline: to check a reply left it as it was.
    func position(_ trip: Int) throws -> [String] {
        guard let instance = try instance("\(trip)") else { return [] }
        return [instance.state.rawValue, "\(instance.step)", "\(instance.completedSteps)", "\(instance.attempt)",
                instance.awaiting ?? "-", "\(instance.deadline?.timeIntervalSince1970 ?? -1)", instance.data]
    }
}
