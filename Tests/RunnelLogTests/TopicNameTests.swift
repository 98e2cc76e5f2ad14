import Foundation
@testable import Runnel
import RunnelTesting
import Testing

/// Topic names may start with a dot, as in Kafka, but never be one of the log's own files.
@Suite struct TopicNameTests {
    @Test func namesThatAreOrCouldBeTheLogsOwnFilesAreRefused() throws {
        for name in [".lock", ".clean-shutdown", ".clean-shutdown.tmp", ".lock.tmp", ".lock.cleaned"] {
            let error = #expect(throws: RunnelError.self, "\(name)") { try TopicName.validate(name) }
            #expect(error?.code == .invalidTopic)
            #expect(error?.message.contains("collides with the log's own file") == true, "\(name): \(error?.message ?? "")")
        }
        for name in [".internal", ".locked", ".clean-shutdowns", "_schemas", "a.lock"] {
            #expect(throws: Never.self, "\(name)") { try TopicName.validate(name) }
        }
    }

    @Test func creatingAReservedTopicLeavesTheLogUsable() throws {
        let temporary = try TemporaryHome(label: "topic-names")
        let folder = temporary.folder.appendingPathComponent("log")
        let log = try Log.open(folder)
        #expect(throws: RunnelError.self) { try log.createTopic(".clean-shutdown") }
        #expect(throws: RunnelError.self) { try log.createTopic(".lock") }
        try log.close()
        // The marker was written, so the next open trusts the files.
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(".clean-shutdown").path))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(".clean-shutdown.tmp").path))
    }

    @Test func dotNamedTopicsAreListedByWritersAndReaders() throws {
        let temporary = try TemporaryHome(label: "dot-topics")
        let folder = temporary.folder.appendingPathComponent("log")
        do {
            let log = try Log.open(folder)
            try log.createTopic(".internal")
            try log.append([record(0)], to: ".internal")
            try log.close()
        }
        for log in [try Log.openForReading(folder), try Log.open(folder)] {
            #expect(log.topicNames == [".internal"])
            #expect(try log.topic(".internal")?.partitions[0].endOffset == 1)
            try log.close()
        }
    }
}
