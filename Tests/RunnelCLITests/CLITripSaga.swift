import Foundation
import GRDB
import Runnel

// A small catalog for the saga commands' tests: a trip booked in two steps (flight, hotel),
// each with a compensation, the handlers that carry them out in business tables, and one
// pipeline counting trips, so `run --all` has all three kinds to run.
//
// A trip listed in `full_hotels` fails its hotel step; one listed in `stubborn_cancels` has
// its flight's cancellation refused once (the row is marked), then accepted. The flight's
// compensation is tried once (`retry: .never`), so a refusal fails the saga.

struct CLITripBooked: Codable, Sendable { var tripId: Int; var traveller: String; var bookedAt: Date }
struct CLITripState: Codable, Sendable { var tripId: Int; var flightRef: String? }

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

enum CLITrip {
    static var catalog: Catalog {
        Catalog(name: "trips", migrations: migrations, pipelines: [tripsPerTraveller], handlers: handlers, sagas: [saga])
    }

    static let saga = Saga("trip", startedBy: "trips", on: CLITripBooked.self, type: "TripBooked", id: { "\($0.tripId)" },
                           state: { CLITripState(tripId: $0.tripId) }) {
        SagaStep<CLITripState>("flight", to: "flight-commands") { BookFlight(tripId: $0.tripId) }
            .completed(by: FlightBooked.self) { state, booked in state.flightRef = booked.reference }
            .failed(by: FlightFull.self)
            .compensate(to: "flight-commands") { CancelFlight(tripId: $0.tripId, reference: $0.flightRef) }
            .compensated(by: FlightCancelled.self)
            .compensationFailed(by: CancelRefused.self)
            .compensationTimeout(.seconds(30), retry: .never)
        SagaStep<CLITripState>("hotel", to: "hotel-commands") { BookHotel(tripId: $0.tripId) }
            .completed(by: HotelBooked.self)
            .failed(by: HotelFull.self)
            .timeout(.seconds(30), retry: .attempts(3))
            .compensate(to: "hotel-commands") { CancelHotel(tripId: $0.tripId) }
            .compensated(by: HotelCancelled.self)
    }

    static let tripsPerTraveller = Pipeline("trips-per-traveller", version: 1, description: "trips booked by each traveller") {
        Source("trips", as: CLITripBooked.self, type: "TripBooked", time: \.bookedAt)
            .keyBy("traveller", \.traveller)
            .aggregate { Count("trips") }
            .into(ReadView("trips_per_traveller", primaryKey: ["traveller"]))
    }

    static let migrations = Migrations.embedded(["0001_trips.sql": Array("""
        CREATE TABLE bookings (trip_id INTEGER NOT NULL, kind TEXT NOT NULL, action TEXT NOT NULL, command_id TEXT NOT NULL);
        CREATE TABLE full_hotels (trip_id INTEGER PRIMARY KEY);
        CREATE TABLE stubborn_cancels (trip_id INTEGER PRIMARY KEY, refused INTEGER NOT NULL DEFAULT 0);
        """.utf8)])

    static var handlers: [Handler] {
        [
            Handler("flights", reads: "flight-commands") {
                On(BookFlight.self) { command, context in
                    try record(command.tripId, "flight", "book", context)
                    try context.reply(FlightBooked(tripId: command.tripId, reference: "F\(command.tripId)"))
                }
                On(CancelFlight.self) { command, context in
                    try context.db.execute(sql: "UPDATE stubborn_cancels SET refused = 1 WHERE trip_id = ? AND refused = 0", arguments: [command.tripId])
                    if context.db.changesCount > 0 { return try context.fail(CancelRefused(tripId: command.tripId)) }
                    try record(command.tripId, "flight", "cancel", context)
                    try context.reply(FlightCancelled(tripId: command.tripId))
                }
            },
            Handler("hotels", reads: "hotel-commands") {
                On(BookHotel.self) { command, context in
                    if try Bool.fetchOne(context.db, sql: "SELECT 1 FROM full_hotels WHERE trip_id = ?", arguments: [command.tripId]) ?? false {
                        return try context.fail(HotelFull(tripId: command.tripId))
                    }
                    try record(command.tripId, "hotel", "book", context)
                    try context.reply(HotelBooked(tripId: command.tripId))
                }
                On(CancelHotel.self) { command, context in
                    try record(command.tripId, "hotel", "cancel", context)
                    try context.reply(HotelCancelled(tripId: command.tripId))
                }
            },
        ]
    }

    private static func record(_ trip: Int, _ kind: String, _ action: String, _ context: HandlerContext) throws {
        try context.db.execute(sql: "INSERT INTO bookings (trip_id, kind, action, command_id) VALUES (?, ?, ?, ?)",
                               arguments: [trip, kind, action, context.commandID])
    }
}
