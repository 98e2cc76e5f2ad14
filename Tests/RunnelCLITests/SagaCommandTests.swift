import Foundation
import GRDB
import Runnel
import RunnelCLI
import RunnelTesting
import Testing

/// `runnel run` for handlers and sagas, `runnel sagas`, and `runnel saga list|show|abort|retry`,
/// in-process with a small trip-booking catalog (``CLITrip``).
@Suite struct SagaCommandTests {
    let temporary: TemporaryHome
    let home: String
    let store: Store

    init() async throws {
        temporary = try TemporaryHome(label: "saga-cli")
        home = temporary.home.url.path
        store = try temporary.openStore(migrations: CLITrip.migrations)
    }

    private func trips(_ arguments: String...) async -> Invocation {
        await runnel(arguments + ["--home", home], catalog: CLITrip.catalog)
    }

    /// Books a trip: the start event goes into the app outbox, as the application would write it.
    private func book(_ trip: Int, by traveller: String = "ada", fullHotel: Bool = false, stubbornCancel: Bool = false) throws {
        try store.app.write { db in
            if fullHotel { try db.execute(sql: "INSERT INTO full_hotels VALUES (?)", arguments: [trip]) }
            if stubbornCancel { try db.execute(sql: "INSERT INTO stubborn_cancels (trip_id) VALUES (?)", arguments: [trip]) }
            _ = try store.outbox.append(OutboxEvent(topic: "trips", key: "\(trip)", type: "TripBooked",
                                                    payload: CLITripBooked(tripId: trip, traveller: traveller, bookedAt: Date()), eventTime: Date()), in: db)
        }
    }

    /// Runs everything and relays what it sent, until a relay finds nothing new: every trip in
    /// the log has gone as far as its replies take it.
    private func settle() async throws {
        for _ in 0..<20 {
            let run = await trips("run", "--all")
            #expect(run.status == 0, "\(run.error)")
            let relayed = await trips("relay")
            #expect(relayed.status == 0, "\(relayed.error)")
            if relayed.output.hasPrefix("Relayed 0 rows") { return }
        }
        Issue.record("the trips did not settle in 20 rounds")
    }

    private func instance(_ id: String) throws -> SagaInstanceRecord? {
        try store.app.read { try SagaRecords.instance(id, in: $0) }
    }

    private func jsonLines(_ invocation: Invocation) throws -> [[String: Any]] {
        try invocation.outputLines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    @Test func runNamesAHandlerOrASagaAndPrintsWhatEachDid() async throws {
        try book(1)
        #expect(await trips("relay").status == 0)
        let started = await trips("run", "trip")
        #expect(started.status == 0, "\(started.error)")
        #expect(started.output == "trip: 1 started, 0 replies, 1 command sent, 0 compensations sent, 0 completed, 0 compensated, 0 failed, 0 timeouts.\n")
        #expect(await trips("relay").status == 0)
        let flights = await trips("run", "flights")
        #expect(flights.output == "flights: 1 record, 1 handled.\n", "\(flights.error)")
        #expect(await trips("relay").status == 0)
        let next = await trips("run", "trip", "hotels")
        // Handlers run before sagas, whatever the order named: the hotel's command is not in the log yet.
        #expect(next.outputLines == ["hotels: 0 records, 0 handled.",
                                     "trip: 0 started, 1 reply, 1 command sent, 0 compensations sent, 0 completed, 0 compensated, 0 failed, 0 timeouts."])
        #expect(try instance("trip:1")?.step == 1)
        #expect(await trips("relay").status == 0)
        #expect(await trips("run", "hotels").output == "hotels: 1 record, 1 handled.\n")
        #expect(await trips("relay").status == 0)
        #expect(await trips("run", "trip").output.contains("1 reply, 0 commands sent, 0 compensations sent, 1 completed"))
        #expect(try instance("trip:1")?.state == .completed)

        // The same command again (as a retry would send it) is recognised by its id.
        try await store.app.write { db in
            _ = try store.outbox.append(OutboxEvent(topic: "hotel-commands", key: "trip:1", type: "BookHotel", payload: BookHotel(tripId: 1), headers: [
                SagaHeader.sagaID: "trip:1", SagaHeader.commandID: "trip:1/1/do", SagaHeader.replyTo: "trip-replies",
            ], eventTime: Date()), in: db)
        }
        #expect(await trips("relay").status == 0)
        let duplicate = await trips("run", "hotels")
        #expect(duplicate.output == "hotels: 1 record, 0 handled, 1 duplicate ignored.\n", "\(duplicate.output) \(duplicate.error)")
    }

    @Test func runAllRunsPipelinesThenHandlersThenSagas() async throws {
        try book(1, by: "ada")
        try book(2, by: "bob", fullHotel: true)
        #expect(await trips("relay").status == 0)
        let first = await trips("run", "--all")
        #expect(first.status == 0, "\(first.error)")
        let lines = first.outputLines
        #expect(lines.count == 4, "\(first.output)")
        #expect(lines.first?.hasPrefix("trips-per-traveller v1: 2 records in 1 batches") == true, "\(first.output)")
        #expect(Array(lines.dropFirst()) == ["flights: 0 records, 0 handled.", "hotels: 0 records, 0 handled.",
                                             "trip: 2 started, 0 replies, 2 commands sent, 0 compensations sent, 0 completed, 0 compensated, 0 failed, 0 timeouts."])
        try await settle()
        #expect(try instance("trip:1")?.state == .completed)
        let compensated = try #require(try instance("trip:2"))
        #expect(compensated.state == .compensated)
        #expect(compensated.reason == "step hotel failed: HotelFull")
        let actions = try await store.app.read { try String.fetchAll($0, sql: "SELECT kind || ':' || action FROM bookings WHERE trip_id = 2 ORDER BY rowid") }
        #expect(actions == ["flight:book", "flight:cancel"])
    }

    @Test func followRunsHandlersAndCoordinatorsBesideThePipelines() async throws {
        let follower = Task { await trips("run", "--all", "--follow") }
        try book(1)
        try book(2, fullHotel: true)
        // The followers wake at each append the relay makes in this process.
        var states: [SagaState?] = []
        for _ in 0..<200 {
            #expect(await trips("relay").status == 0)
            states = [try instance("trip:1")?.state, try instance("trip:2")?.state]
            if states == [.completed, .compensated] { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(states == [.completed, .compensated])
        // A second runner of the handler is refused while the follower holds it.
        let second = await trips("run", "flights")
        #expect(second.status == 1)
        #expect(second.error.contains("handler flights is already being run by another runner in this process"), "\(second.error)")
        follower.cancel()
        _ = await follower.value
    }

    @Test func sagasShowsTheDefinitionsInstanceCountsAndHandlers() async throws {
        let fresh = await trips("sagas")
        #expect(fresh.status == 0, "\(fresh.error)")
        #expect(fresh.output.contains("  instances: 0 running, 0 compensating, 0 completed, 0 compensated, 0 failed"))
        try book(1)
        try book(2, fullHotel: true)
        try await settle()
        let listed = await trips("sagas")
        #expect(listed.status == 0, "\(listed.error)")
        let lines = listed.outputLines.map(String.init)
        #expect(Array(lines.prefix(6)) == [
            "saga trip: started by trips · TripBooked; replies to trip-replies",
            "  instances: 0 running, 0 compensating, 1 completed, 1 compensated, 0 failed",
            "  1 flight: BookFlight → flight-commands; completed by FlightBooked; fails on FlightFull; timeout 30s × 3 attempts",
            "      compensation CancelFlight → flight-commands; completed by FlightCancelled; refused by CancelRefused",
            "  2 hotel: BookHotel → hotel-commands; completed by HotelBooked; fails on HotelFull; timeout 30s × 3 attempts",
            "      compensation CancelHotel → hotel-commands; completed by HotelCancelled",
        ], "\(listed.output)")
        #expect(lines.contains("handlers:"))
        let flights = try #require(lines.first { $0.hasPrefix("flights ") })
        #expect(flights.wholeMatch(of: /flights\s+flight-commands\s+BookFlight, CancelFlight\s+0/) != nil, "\(flights)")
        #expect(lines.last == "(2 rows)")

        // `pipelines` says where handlers and sagas are listed.
        let pipelines = await trips("pipelines")
        #expect(pipelines.output.contains("The catalog also has 2 handlers and 1 saga: `runnel sagas` lists them."))
    }

    @Test func listPrintsInstancesAsATableOrJSONLinesAndFilters() async throws {
        try book(1)
        try book(2, fullHotel: true)
        try await settle()
        try book(3)
        #expect(await trips("relay").status == 0)
        #expect(await trips("run", "trip").status == 0)

        let table = await trips("saga", "list")
        #expect(table.status == 0, "\(table.error)")
        #expect(table.outputLines.first?.split(separator: " ", omittingEmptySubsequences: true) == ["id", "saga", "state", "step", "step_name", "attempt", "started_at", "updated_at", "deadline", "reason"])
        #expect(table.outputLines.last == "(3 rows)")
        let running = try #require(table.outputLines.first { $0.hasPrefix("trip:3 ") })
        #expect(running.contains("running") && running.contains(" flight ") && running.contains("Z"), "\(running)")

        let json = try jsonLines(await trips("saga", "list", "--format", "json"))
        #expect(json.count == 3)
        let byID = Dictionary(uniqueKeysWithValues: json.map { ($0["id"] as! String, $0) })
        #expect(Set(json[0].keys) == Set(SagaCommandTestsColumns.list))
        #expect(byID["trip:1"]?["state"] as? String == "completed")
        #expect(byID["trip:2"]?["state"] as? String == "compensated")
        #expect(byID["trip:2"]?["reason"] as? String == "step hotel failed: HotelFull")
        let three = try #require(byID["trip:3"])
        #expect(three["state"] as? String == "running" && three["step"] as? Int == 1 && three["step_name"] as? String == "flight")
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        func isTime(_ value: Any?) -> Bool { (value as? String).map { iso.date(from: $0) != nil || plain.date(from: $0) != nil } ?? false }
        #expect(isTime(three["started_at"]) && isTime(three["updated_at"]) && isTime(three["deadline"]))
        #expect(byID["trip:1"]?["deadline"] is NSNull)

        let compensated = try jsonLines(await trips("saga", "list", "--state", "compensated", "--format", "json"))
        #expect(compensated.map { $0["id"] as? String } == ["trip:2"])
        #expect(try jsonLines(await trips("saga", "list", "--saga", "trip", "--limit", "1", "--format", "json")).count == 1)

        let badState = await trips("saga", "list", "--state", "stuck")
        #expect(badState.status == 64)
        #expect(badState.error.contains("choose one of: running, compensating, completed, compensated, failed"), "\(badState.error)")
        let badSaga = await trips("saga", "list", "--saga", "cruise")
        #expect(badSaga.status == 64)
        #expect(badSaga.error.contains("the trips catalog has no saga named cruise; choose one of: trip"), "\(badSaga.error)")
    }

    @Test func showPrintsTheInstanceAndItsTimeline() async throws {
        try book(2, fullHotel: true)
        try await settle()
        let shown = await trips("saga", "show", "trip:2")
        #expect(shown.status == 0, "\(shown.error)")
        let lines = shown.outputLines.map(String.init)
        #expect(lines.first == "saga trip:2 · trip · compensated")
        #expect(lines.contains("reason:     step hotel failed: HotelFull"))
        #expect(lines.contains { $0.hasPrefix("data:       {") && $0.contains("\"flightRef\":\"F2\"") })
        let timeline = try #require(lines.firstIndex(of: "timeline:"))
        // Columns are two or more spaces apart: time, step, kind, command id, type, detail.
        let entries = lines[(timeline + 1)...].map { $0.trimmingCharacters(in: .whitespaces).split(separator: /\s{2,}/).map(String.init) }
        #expect(entries.map { $0[2] } == ["started", "command", "reply", "command", "reply", "compensation", "compensation-reply", "compensated"])
        #expect(entries[0][1] == "-" && entries[0][4] == "TripBooked" && entries[0][5].hasPrefix("started by trips/0@"))
        #expect(entries[1][1...4] == ["1 flight", "command", "trip:2/0/do", "BookFlight"])
        #expect(entries[4][1...5] == ["2 hotel", "reply", "trip:2/1/do", "HotelFull", "failed step hotel"])
        #expect(entries[5][1...4] == ["1 flight", "compensation", "trip:2/0/undo", "CancelFlight"])

        let json = await trips("saga", "show", "trip:2", "--format", "json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        let instance = try #require(object["instance"] as? [String: Any])
        #expect(instance["state"] as? String == "compensated")
        #expect((instance["data"] as? [String: Any])?["flightRef"] as? String == "F2")
        let entriesJSON = try #require(object["timeline"] as? [[String: Any]])
        #expect(entriesJSON.count == 8)
        #expect(entriesJSON[5]["step_name"] as? String == "flight" && entriesJSON[5]["command_id"] as? String == "trip:2/0/undo")

        // A reply for an instance that does not exist leaves a timeline, and show shows it.
        try await store.app.write { db in
            _ = try store.outbox.append(OutboxEvent(topic: "trip-replies", key: "trip:99", type: "FlightBooked", payload: FlightBooked(tripId: 99, reference: "F99"),
                                                    headers: [SagaHeader.sagaID: "trip:99", SagaHeader.commandID: "trip:99/0/do"], eventTime: Date()), in: db)
        }
        #expect(await trips("relay").status == 0)
        let ignored = await trips("run", "trip")
        #expect(ignored.output.contains("1 reply") && ignored.output.contains("1 of the replies ignored"), "\(ignored.output)")
        let orphan = await trips("saga", "show", "trip:99")
        #expect(orphan.status == 0, "\(orphan.error)")
        #expect(orphan.outputLines.first?.hasPrefix("saga trip:99 · no instance") == true)
        #expect(orphan.output.contains(" unknown ") && orphan.output.contains("no saga instance trip:99"), "\(orphan.output)")

        let unknown = await trips("saga", "show", "trip:404")
        #expect(unknown.status == 1)
        #expect(unknown.error.contains("error: no saga instance trip:404 in "), "\(unknown.error)")
        #expect(unknown.error.contains("`runnel saga list --home \(home)` shows the instances there are"), "\(unknown.error)")
    }

    @Test func abortUndoesARunningInstanceOnceTheCoordinatorRuns() async throws {
        try book(3)
        // Until the flight is booked and the hotel awaited.
        for command in [["relay"], ["run", "trip"], ["relay"], ["run", "flights"], ["relay"], ["run", "trip"]] {
            #expect(await runnel(command + ["--home", home], catalog: CLITrip.catalog).status == 0)
        }
        #expect(try instance("trip:3")?.state == .running)
        #expect(try instance("trip:3")?.step == 1)

        let aborted = await trips("saga", "abort", "trip:3", "--reason", "traveller cancelled")
        #expect(aborted.status == 0, "\(aborted.error)")
        #expect(aborted.outputLines.first == "saga trip:3: aborted (traveller cancelled); it is compensating now.")
        #expect(aborted.output.contains("The compensation of step 1 flight (trip:3/0/undo) is in the app outbox."), "\(aborted.output)")
        #expect(aborted.output.contains("`runnel run trip --home \(home)`"))
        let again = await trips("saga", "abort", "trip:3")
        #expect(again.status == 1)
        #expect(again.error.contains("saga trip:3 is compensating, not running, so it cannot be aborted"), "\(again.error)")

        try await settle()
        let done = try #require(try instance("trip:3"))
        #expect(done.state == .compensated)
        #expect(done.reason == "aborted: traveller cancelled")
        let kinds = try await store.app.read { try String.fetchAll($0, sql: "SELECT kind FROM runnel_saga_log WHERE saga_id = 'trip:3' ORDER BY seq") }
        #expect(kinds.contains("aborted") && kinds.contains("compensated"), "\(kinds)")
        // The hotel's command was in the log already: the booking it made came late, and was undone too.
        let actions = try await store.app.read { try String.fetchAll($0, sql: "SELECT kind || ':' || action FROM bookings WHERE trip_id = 3 ORDER BY rowid") }
        #expect(actions.sorted() == ["flight:book", "flight:cancel", "hotel:book", "hotel:cancel"], "\(actions)")

        let completed = await trips("saga", "abort", "trip:3")
        #expect(completed.status == 1)
        #expect(completed.error.contains("is compensated, not running"))
    }

    @Test func retrySendsAFailedInstancesCompensationAgain() async throws {
        try book(4, fullHotel: true, stubbornCancel: true)
        try await settle()
        let failed = try #require(try instance("trip:4"))
        #expect(failed.state == .failed)
        #expect(failed.reason == "the compensation of step flight refused (CancelRefused) after 1 attempt")
        let listed = try jsonLines(await trips("saga", "list", "--state", "failed", "--format", "json"))
        #expect(listed.map { $0["id"] as? String } == ["trip:4"])

        let retried = await trips("saga", "retry", "trip:4")
        #expect(retried.status == 0, "\(retried.error)")
        #expect(retried.outputLines.first == "saga trip:4: retried; it is compensating now.")
        let twice = await trips("saga", "retry", "trip:4")
        #expect(twice.status == 1)
        #expect(twice.error.contains("saga trip:4 is compensating, not failed, so there is nothing to retry"), "\(twice.error)")

        try await settle()
        #expect(try instance("trip:4")?.state == .compensated)
        let actions = try await store.app.read { try String.fetchAll($0, sql: "SELECT kind || ':' || action FROM bookings WHERE trip_id = 4 ORDER BY rowid") }
        #expect(actions == ["flight:book", "flight:cancel"])
    }

    @Test func refusalsSayWhatIsWrong() async throws {
        try book(5)
        #expect(await trips("relay").status == 0)
        #expect(await trips("run", "trip").status == 0)
        let running = await trips("saga", "retry", "trip:5")
        #expect(running.status == 1)
        #expect(running.error.contains("saga trip:5 is running, not failed"), "\(running.error)")

        let unknownID = await trips("saga", "abort", "trip:404")
        #expect(unknownID.status == 1)
        #expect(unknownID.error.contains("no saga instance trip:404"), "\(unknownID.error)")
        let unknownSaga = await trips("saga", "abort", "cruise:1")
        #expect(unknownSaga.status == 1)
        #expect(unknownSaga.error.contains("the trips catalog has no saga named cruise, so it cannot change instance cruise:1"), "\(unknownSaga.error)")
        #expect(unknownSaga.error.contains("Its sagas: trip"))
        let notAnID = await trips("saga", "retry", "trip")
        #expect(notAnID.status == 64)

        let rebuild = await trips("run", "flights", "--rebuild")
        #expect(rebuild.status == 64)
        #expect(rebuild.error.contains("--rebuild applies to pipelines only, and handler flights is not one"), "\(rebuild.error)")
        let skipGap = await trips("run", "trip", "trips-per-traveller", "--skip-gap")
        #expect(skipGap.status == 64)
        #expect(skipGap.error.contains("--skip-gap applies to pipelines only, and saga trip is not one"), "\(skipGap.error)")
        // With --all they apply to the pipelines.
        let all = await trips("run", "--all", "--rebuild")
        #expect(all.status == 0, "\(all.error)")

        let unknownName = await trips("run", "cruise")
        #expect(unknownName.status == 1)
        #expect(unknownName.error.contains("no pipeline, handler or saga named cruise in the trips catalog"), "\(unknownName.error)")
        #expect(unknownName.error.contains("Choose one of: pipelines trips-per-traveller; handlers flights, hotels; sagas trip"), "\(unknownName.error)")
    }
}

private enum SagaCommandTestsColumns {
    static let list = ["id", "saga", "state", "step", "step_name", "attempt", "started_at", "updated_at", "deadline", "reason"]
}
