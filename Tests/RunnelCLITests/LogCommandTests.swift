import Foundation
import GRDB
@testable import Runnel
import RunnelTesting
import Testing

@Suite struct LogCommandTests {
    let temporary: TemporaryHome
    let home: String

    init() async throws {
        temporary = try TemporaryHome(label: "log-cli")
        home = temporary.home.url.path
        let demo = await runnel("demo", "--home", home)
        #expect(demo.status == 0, "\(demo.error)")
    }

    @Test func topicsListPartitionsRecordsAndBytesForEveryEvent() async throws {
        let result = await runnel("log", "topics", "--format", "json", "--home", home)
        #expect(result.status == 0)
        let topics = try result.outputLines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        // The sample's eight topics, the member-sessions and tickets topics the demo's pipelines
        // derive, and its sagas' six command topics and two reply topics.
        #expect(topics.count == 18)
        #expect(topics.allSatisfy { $0["topic"] is String && $0["partitions"] as? Int == 1 && ($0["bytes"] as? Int ?? 0) > 0 })
        // Relayed rows leave the outboxes; AUTOINCREMENT remembers how many there were: the
        // sample's events and the sagas' commands and replies in app.sqlite's, the derived events in derived.sqlite's.
        let app = try await Store.openReadOnly(temporary.home, .app).read { try Int.fetchOne($0, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'runnel_outbox'") ?? 0 }
        let events = try await Store.openReadOnly(temporary.home, .app).read { try Int.fetchOne($0, sql: "SELECT events FROM runnel_sample_loads") ?? 0 }
        let derived = try await Store.openReadOnly(temporary.home, .derived).read { try Int.fetchOne($0, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'runnel_outbox'") ?? 0 }
        #expect(derived > 0 && app > events)
        #expect(topics.reduce(0) { $0 + ($1["records"] as! Int) } == app + derived)
    }

    @Test func tailPrintsJSONLinesWithEveryField() async throws {
        let result = await runnel("log", "tail", "member-activity", "--from", "0", "--limit", "5", "--format", "json", "--home", home)
        #expect(result.status == 0, "\(result.error)")
        #expect(result.outputLines.count == 5)
        for (index, line) in result.outputLines.enumerated() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["topic"] as? String == "member-activity")
            #expect(object["partition"] as? Int == 0)
            #expect(object["offset"] as? Int == index)
            #expect(object["timestamp"] is Int)
            #expect(object["key"] is String)
            #expect((object["headers"] as? [String: Any])?["type"] as? String == "ActivityRecorded")
            #expect((object["value"] as? [String: Any])?["memberId"] is Int)
        }
        let timed = await runnel("log", "tail", "service-exceptions", "--from-time", "2026-01-05T12:00:00Z", "--limit", "1", "--format", "json", "--home", home)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(timed.output.utf8)) as? [String: Any])
        #expect((first["timestamp"] as? Int ?? 0) >= 1_767_614_400_000)
    }

    @Test func createAndDescribeATopic() async throws {
        let created = await runnel("log", "create", "audit", "--partitions", "3", "--compact", "--retention-hours", "48", "--home", home)
        #expect(created.status == 0, "\(created.error)")
        let described = await runnel("log", "describe", "audit", "--home", home)
        #expect(described.output.contains("3 partition(s), compact true, retention 48 h"))
        #expect(described.output.contains("partition 2: offsets 0..<0"))
        let again = await runnel("log", "create", "audit", "--home", home)
        #expect(again.status == 1)
        #expect(again.error.contains("already exists"))
        let bad = await runnel("log", "create", "bad/name", "--home", home)
        #expect(bad.status == 1)
        #expect(bad.error.contains("path separator"))
    }

    @Test func verifyFindsAFlippedByteAndRepairCutsOnlyWhenAsked() async throws {
        #expect(await runnel("log", "verify", "--home", home).status == 0)
        let segment = temporary.home.logURL.appendingPathComponent("member-activity/0/00000000000000000000.log")
        var bytes = try Data(contentsOf: segment)
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: segment)

        let verify = await runnel("log", "verify", "--home", home)
        #expect(verify.status == 1)
        #expect(verify.output.contains("00000000000000000000.log at byte"))
        let dryRun = await runnel("log", "repair", "--home", home)
        #expect(dryRun.output.contains("Nothing changed"))
        #expect(try Data(contentsOf: segment) == bytes)
        let repair = await runnel("log", "repair", "--yes", "--home", home)
        #expect(repair.status == 0, "\(repair.error)")
        #expect(repair.output.contains("dropped"))
        #expect(await runnel("log", "verify", "--home", home).status == 0)
    }

    /// Where the last batch of a segment file starts.
    private func lastBatchStart(_ bytes: [UInt8]) throws -> Int {
        try bytes.withUnsafeBytes { raw in
            var position = 0, last = 0
            while position < raw.count {
                last = position
                position += try RecordBatch.header(raw, at: position).size
            }
            return last
        }
    }

    private func appendProfileEvent() async throws {
        let store = try temporary.openStore()
        _ = try await store.app.write { db in
            try store.outbox.append(OutboxEvent(topic: "member-profile", key: "7", type: "HeadlineUpdated",
                                                payload: ["memberId": 7], eventTime: Date(millisecondsSince1970: 42)), in: db)
        }
    }

    @Test func aDamagedTailAfterACleanStopIsCutOrRefusedByTheSameRuleAsAfterACrash() async throws {
        let segment = temporary.home.logURL.appendingPathComponent("member-profile/0/00000000000000000000.log")
        let end = try Data(contentsOf: segment).count
        // Bytes appended after the clean stop: not a batch. The relay cuts them and says so.
        let handle = try FileHandle(forWritingTo: segment)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(repeating: 7, count: 30))
        try handle.close()
        try await appendProfileEvent()
        let relay = await runnel("relay", "--home", home)
        #expect(relay.status == 0, "\(relay.error)")
        #expect(relay.error.contains("member-profile/0: torn tail truncated after a clean stop: 30 bytes"), "\(relay.error)")
        #expect(relay.error.contains("\(segment.path) at byte \(end)"), "\(relay.error)")
        #expect(await runnel("log", "verify", "--home", home).status == 0)

        // A flipped byte in the last batch, flushed before the stop: never cut, appends refused.
        var bytes = Array(try Data(contentsOf: segment))
        let last = try lastBatchStart(bytes)
        bytes[last + 70] ^= 0x01
        try Data(bytes).write(to: segment)
        try await appendProfileEvent()
        let refused = await runnel("relay", "--home", home)
        #expect(refused.status == 1)
        #expect(refused.error.contains("nothing was cut"), "\(refused.error)")
        #expect(refused.error.contains("member-profile/0 takes no appends"), "\(refused.error)")
        #expect(refused.error.contains("runnel log repair --yes"), "\(refused.error)")
        #expect(try Data(contentsOf: segment).count == bytes.count)
        let repair = await runnel("log", "repair", "--yes", "--home", home)
        #expect(repair.status == 0, "\(repair.error)")
        #expect(repair.output.contains("dropped"))
        let relayed = await runnel("relay", "--home", home)
        #expect(relayed.status == 0, "\(relayed.error)")
        #expect(!relayed.error.contains("warning"), "\(relayed.error)")
    }

    @Test func aSecondWriterIsRefusedWithAClearMessage() async throws {
        let holder = try Log.open(temporary.home.logURL)
        let relay = await runnel("relay", "--home", home)
        #expect(relay.status == 1)
        #expect(relay.error.contains("already open for writing by another process"))
        try holder.close()
    }
}

@Suite struct LogTailFollowTests {
    /// Reads the child's output until it holds `count` lines or 20 seconds pass.
    private func lines(_ handle: FileHandle, atLeast count: Int, into text: inout String) -> [Substring] {
        let deadline = Date().addingTimeInterval(20)
        while text.split(separator: "\n").count < count, Date() < deadline {
            // Wait for output without blocking past the deadline.
            var ready = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 200) > 0 else { continue }
            let data = handle.availableData
            if data.isEmpty { break }   // the child exited
            text += String(decoding: data, as: UTF8.self)
        }
        return text.split(separator: "\n")
    }

    @Test func followPrintsTheLastRecordsThenEachNewOne() async throws {
        let temporary = try TemporaryHome(label: "tail-follow")
        let home = temporary.home.url.path
        #expect(await runnel("demo", "--home", home).status == 0)
        let output = Pipe()
        let tail = try ChildProcess.launch(["log", "tail", "member-profile", "--follow", "--limit", "2", "--format", "json", "--home", home],
                                           standardOutput: output)
        defer {
            tail.terminate()
            tail.waitUntilExit()
        }
        var text = ""
        #expect(lines(output.fileHandleForReading, atLeast: 2, into: &text).count == 2)
        let store = try temporary.openStore()
        _ = try await store.app.write { db in
            try store.outbox.append(OutboxEvent(topic: "member-profile", key: "7", type: "HeadlineUpdated",
                                                payload: ["memberId": 7], eventTime: Date(millisecondsSince1970: 42)), in: db)
        }
        #expect(await runnel("relay", "--home", home).status == 0)
        let all = lines(output.fileHandleForReading, atLeast: 3, into: &text)
        #expect(all.count == 3)
        let last = try #require(try all.last.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } ?? nil)
        #expect(last["timestamp"] as? Int == 42)
        #expect(last["key"] as? String == "7")
    }
}

@Suite struct RelayCommandTests {
    @Test func anIntervalFsyncPolicyStillRelaysEverythingAndClosesCleanly() async throws {
        let temporary = try TemporaryHome(label: "relay-interval")
        let home = temporary.home.url.path
        for command in [["migrate"], ["sample", "load"]] {
            #expect(await runnel(command + ["--home", home]).status == 0)
        }
        let events = try await Store.openReadOnly(temporary.home, .app).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_outbox") }
        let relayed = await runnel("relay", "--fsync-interval-ms", "50", "--partitions", "2", "--home", home)
        #expect(relayed.status == 0, "\(relayed.error)")
        #expect(relayed.output.contains("Relayed \(events ?? -1) rows"))
        #expect(FileManager.default.fileExists(atPath: temporary.home.logURL.appendingPathComponent(".clean-shutdown").path))
        #expect(await runnel("log", "verify", "--home", home).status == 0)
        let described = await runnel("log", "describe", "member-activity", "--home", home)
        #expect(described.output.contains("2 partition(s)"))
        let bad = await runnel("relay", "--fsync-interval-ms", "0", "--home", home)
        #expect(bad.status == 64)

        // A new identity for a restored file: the next relay writes it on every record.
        let before = try await Store.openReadOnly(temporary.home, .app).read(DatabaseIdentity.read).id
        let renewed = await runnel("relay", "--new-identity", "app.sqlite", "--home", home)
        #expect(renewed.status == 0, "\(renewed.error)")
        let after = try await Store.openReadOnly(temporary.home, .app).read(DatabaseIdentity.read).id
        #expect(after != before)
        #expect(renewed.output.contains("app.sqlite has the new identity \(after)"))
        #expect(await runnel("relay", "--new-identity", "business.sqlite", "--home", home).status == 64)
    }
}

/// A segment deleted from the middle of a partition: every command says so instead of
/// reporting offsets the files do not hold.
@Suite struct LogGapCommandTests {
    let temporary: TemporaryHome
    let home: String
    /// The deleted segment's file, and the range of offsets it held.
    let deleted: String
    let missing: Range<Int64>

    init() async throws {
        temporary = try TemporaryHome(label: "log-gap-cli")
        home = temporary.home.url.path
        // Small segments and small relay cycles, so member-activity spans several segments.
        for command in [["migrate"], ["log", "create", "member-activity", "--segment-bytes", "20000"], ["sample", "load"], ["relay", "--batch-size", "50"]] {
            let result = await runnel(command + ["--home", home])
            #expect(result.status == 0, "\(command): \(result.error)")
        }
        let folder = temporary.home.logURL.appendingPathComponent("member-activity/0")
        let segments = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".log") }.sorted()
        try #require(segments.count >= 4)
        deleted = segments[2]
        missing = Int64(segments[2].prefix(20))!..<Int64(segments[3].prefix(20))!
        try FileManager.default.removeItem(at: folder.appendingPathComponent(deleted))
    }

    @Test func verifyFailsNamingTheFilesAndTheMissingRange() async throws {
        let verify = await runnel("log", "verify", "--home", home)
        #expect(verify.status == 1)
        let line = try #require(verify.outputLines.first { $0.hasPrefix("gap: member-activity/0") })
        #expect(line.contains("offsets \(missing.lowerBound)–\(missing.upperBound - 1) (\(missing.count) records) are missing"))
        #expect(line.contains(LogSegment.name(missing.upperBound, "log")))
        #expect(verify.error.contains("1 gap(s)"))
    }

    @Test func describeAndTopicsCountWhatTheFilesHold() async throws {
        let described = await runnel("log", "describe", "member-activity", "--home", home)
        #expect(described.status == 0, "\(described.error)")
        #expect(described.output.contains("gap: offsets \(missing.lowerBound)..<\(missing.upperBound) missing"))
        #expect(described.output.contains("..<\(missing.lowerBound)  "))
        let end = try #require(try Log.openForReading(temporary.home.logURL).topic("member-activity")).partitions[0].endOffset
        #expect(described.output.contains("\(end - Int64(missing.count)) offsets held, \(missing.count) missing in 1 gap(s)"))
        let topics = await runnel("log", "topics", "--format", "json", "--home", home)
        let rows = try topics.outputLines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let activity = try #require(rows.first { $0["topic"] as? String == "member-activity" })
        #expect(activity["records"] as? Int == Int(end) - missing.count)
    }

    @Test func tailPrintsTheRecordsBeforeTheGapThenStopsNamingIt() async throws {
        let tail = await runnel("log", "tail", "member-activity", "--from", String(missing.lowerBound - 2), "--limit", "10", "--home", home)
        #expect(tail.status == 1)
        let offsets = tail.outputLines.dropFirst(2).compactMap { Int64($0.split(separator: " ", omittingEmptySubsequences: true)[1]) }
        #expect(offsets == [missing.lowerBound - 2, missing.lowerBound - 1])
        #expect(tail.error.contains("offsets \(missing.lowerBound)–\(missing.upperBound - 1)"))
    }

    @Test func aDeletedLastSegmentIsNamedByVerifyAndStopsTheRelay() async throws {
        let folder = temporary.home.logURL.appendingPathComponent("member-activity/0")
        let last = try #require(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".log") }.sorted().last)
        try FileManager.default.removeItem(at: folder.appendingPathComponent(last))
        let verify = await runnel("log", "verify", "--home", home)
        #expect(verify.status == 1)
        #expect(verify.output.contains("the last segment \(folder.appendingPathComponent(last).path)"))
        #expect(verify.output.contains("records from offset \(Int64(last.prefix(20))!) on are lost"))
        #expect(verify.error.contains("2 gap(s)"))
        let relay = await runnel("relay", "--home", home)
        #expect(relay.status == 1)
        #expect(relay.error.contains("the last segment \(last)"))
        #expect(relay.error.contains("recovery-checkpoint"))
    }

    @Test func repairSaysItCannotRecreateTheRecords() async throws {
        let repair = await runnel("log", "repair", "--yes", "--home", home)
        #expect(repair.status == 1)
        #expect(repair.output.contains("offsets \(missing.lowerBound)–\(missing.upperBound - 1)"))
        #expect(repair.output.contains("repair cannot recreate them"))
        #expect(!repair.output.contains("Nothing to repair"))
        #expect(repair.error.contains("1 gap(s) remain"))
    }

    @Test func aPipelineStopsAtTheGapUnlessToldToSkipItAndThenRecordsTheSkip() async throws {
        let stopped = await runnel("run", "member-sessions", "--rebuild", "--home", home)
        #expect(stopped.status == 1)
        #expect(stopped.error.contains("offsets \(missing.lowerBound)–\(missing.upperBound - 1)"))
        #expect(stopped.error.contains("--skip-gap"))
        let derived = try temporary.openStore().derived
        // What came before the gap is committed, nothing past it.
        let offset = try await derived.read { db in
            try Int64.fetchOne(db, sql: "SELECT next_offset FROM runnel_pipeline_offsets WHERE pipeline = 'member-sessions' AND topic = 'member-activity'")
        }
        #expect(offset == missing.lowerBound)

        let skipped = await runnel("run", "member-sessions", "--rebuild", "--skip-gap", "--home", home)
        #expect(skipped.status == 0, "\(skipped.error)")
        let rows = try derived.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM runnel_pipeline_skipped_gaps")
        }
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(row["pipeline"] as String? == "member-sessions")
        #expect(row["topic"] as String? == "member-activity")
        #expect(row["partition"] as Int? == 0)
        #expect(row["first_offset"] as Int64? == missing.lowerBound)
        #expect(row["last_offset"] as Int64? == missing.upperBound - 1)
        #expect(row["records"] as Int? == missing.count)
        #expect((row["skipped_at"] as Int64? ?? 0) > 0)
        let end = try #require(try Log.openForReading(temporary.home.logURL).topic("member-activity")).partitions[0].endOffset
        let after = try await derived.read { db in
            try Int64.fetchOne(db, sql: "SELECT next_offset FROM runnel_pipeline_offsets WHERE pipeline = 'member-sessions' AND topic = 'member-activity'")
        }
        #expect(after == end)
    }
}

/// A topic whose name starts with a dot is listed and verified like any other; names of the
/// log's own files are refused with the reason.
@Suite struct DotTopicCommandTests {
    @Test func dotNamesAreShownAndTheLogsOwnFileNamesRefused() async throws {
        let temporary = try TemporaryHome(label: "dot-topic-cli")
        let home = temporary.home.url.path
        #expect(await runnel("migrate", "--home", home).status == 0)
        let created = await runnel("log", "create", ".internal", "--home", home)
        #expect(created.status == 0, "\(created.error)")
        for reserved in [".lock", ".clean-shutdown"] {
            let refused = await runnel("log", "create", reserved, "--home", home)
            #expect(refused.status == 1)
            #expect(refused.error.contains("collides with the log's own file \(reserved)"))
        }
        let topics = await runnel("log", "topics", "--home", home)
        #expect(topics.output.contains(".internal"))
        let verify = await runnel("log", "verify", "--home", home)
        #expect(verify.status == 0, "\(verify.error)")
        #expect(verify.output.contains("Verified 1 partition(s)"))
    }
}

/// A log whose end went back behind a pipeline (its last segment lost and the loss accepted, as
/// the log's own hint allows): the pipeline stops instead of skipping the offsets new records
/// will get again, `runnel pipelines` says it needs a rebuild, and the rebuild works.
@Suite struct APipelineAheadOfTheLogTests {
    @Test func stopsNamingTheOffsetsUntilRebuilt() async throws {
        let temporary = try TemporaryHome(label: "log-behind-pipeline")
        let home = temporary.home.url.path
        for command in [["migrate"], ["log", "create", "member-activity", "--segment-bytes", "20000"], ["sample", "load"],
                        ["relay", "--batch-size", "50"], ["run", "member-sessions"]] {
            let result = await runnel(command + ["--home", home])
            #expect(result.status == 0, "\(command): \(result.error)")
        }
        let folder = temporary.home.logURL.appendingPathComponent("member-activity/0")
        let last = try #require(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".log") }.sorted().last)
        for name in [last, String(last.prefix(20)) + ".index", String(last.prefix(20)) + ".timeindex", "recovery-checkpoint"] {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
        let end = Int64(last.prefix(20))!

        let stopped = await runnel("run", "member-sessions", "--home", home)
        #expect(stopped.status == 1)
        #expect(stopped.error.contains("the log there now ends at offset \(end)"), "\(stopped.error)")
        #expect(stopped.error.contains("runnel run member-sessions --rebuild"))
        let listed = await runnel("pipelines", "--home", home)
        let line = try #require(listed.outputLines.first { $0.contains("member-sessions") })
        #expect(line.contains("offsets past the log's end"), "\(line)")

        let rebuilt = await runnel("run", "member-sessions", "--rebuild", "--home", home)
        #expect(rebuilt.status == 0, "\(rebuilt.error)")
        let after = await runnel("pipelines", "--home", home)
        #expect(after.outputLines.first { $0.contains("member-sessions") }?.contains(" ok ") == true, "\(after.output)")
    }
}

/// `log tail` goes on past the offsets compaction removed: a segment compacted to nothing (one
/// empty batch) right before a gap still leads to the gap's error, not a silent stop.
@Suite struct TailOverACompactedSegmentTests {
    @Test func reachesTheGapAfterASegmentCompactedToNothing() async throws {
        let temporary = try TemporaryHome(label: "tail-compacted")
        let log = try Log.open(temporary.home.logURL)
        let partition = try log.createTopic("notes", TopicConfiguration(segmentBytes: 1_024)).partitions[0]
        let padding = String(repeating: "x", count: 600)
        func record(_ key: String) -> LogRecord { LogRecord(timestamp: 1, key: Array(key.utf8), value: Array("{\"note\":\"\(key)\(padding)\"}".utf8)) }
        // One batch a segment (each is over half of 1,024 bytes): [k1 k2] [k1 k2] [k3] [k4].
        for keys in [["k1", "k2"], ["k1", "k2"], ["k3"], ["k4"]] { try partition.append(keys.map(record)) }
        #expect(partition.segmentSummaries.map(\.baseOffset) == [0, 2, 4, 5])
        try partition.compact()   // the first segment keeps only an empty batch ending at offset 1
        try log.close()
        let folder = partition.folder
        for suffix in ["log", "index", "timeindex"] { try FileManager.default.removeItem(at: folder.appendingPathComponent(LogSegment.name(2, suffix))) }

        let tail = await runnel("log", "tail", "notes", "--from", "0", "--home", temporary.home.url.path)
        #expect(tail.status == 1, "\(tail.output)")
        #expect(tail.error.contains("offsets 2–3"), "\(tail.error)")
    }
}
