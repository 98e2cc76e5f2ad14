import Foundation
import GRDB
import Pipelines
import Runnel
import RunnelTesting
import Testing

/// Input that is not UTF-8 is refused with its line and byte, never rewritten to U+FFFD and
/// stored as if the file had said so.
@Suite struct SampleInputEncodingTests {
    let dataset = NetworkDataSet()

    @Test func aLineWithInvalidUTF8IsRefusedNamingLineAndByteAndNothingIsLoaded() throws {
        let temporary = try TemporaryHome()
        let store = try temporary.openStore(migrations: SampleCatalog.catalog.migrations)
        var bytes = Data(#"{"at":1767600000000,"email":"feed-infra-oncall@example.net","op":"owner","service":"bad"#.utf8)
        bytes += Data([0xFF, 0xFE])
        bytes += Data(#"service","team":"feed-infra"}"#.utf8)
        let original = try Data(contentsOf: dataset.committedFile)
        let firstLine = try #require(original.firstIndex(of: UInt8(ascii: "\n")))
        // Line 1 stays, line 2 is the bad one.
        let file = temporary.folder.appendingPathComponent("bad-bytes.jsonl")
        try (original[...firstLine] + bytes + Data("\n".utf8) + original[(firstLine + 1)...]).write(to: file)

        let error = try #require(throws: RunnelError.self) { try SampleLoader(dataset: dataset).load(file, into: store) }
        #expect(error.code == .sampleData)
        let column = bytes.firstIndex(of: 0xFF)! + 1
        #expect(error.message.contains("bad-bytes.jsonl is not valid UTF-8: line 2, byte \(column) (file offset \(firstLine + column)) holds ff;"),
                "\(error)")
        #expect(error.description.contains("nothing was loaded"))
        let counts = try store.app.read { db in
            [try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_outbox"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM service_owners"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM runnel_sample_loads")]
        }
        #expect(counts == [0, 0, 0])
    }

    @Test func aMigrationFileWithInvalidUTF8IsRefusedNamingLineAndByte() throws {
        let temporary = try TemporaryHome()
        let store = try temporary.openStore()
        let folder = try temporary.makeMigrations(["0001_a.sql": "CREATE TABLE a (id INTEGER);\n"])
        try (Data("-- note\nCREATE TABLE b (name TEXT DEFAULT 'x".utf8) + Data([0xC3]) + Data("');\n".utf8))
            .write(to: folder.appendingPathComponent("0002_b.sql"))
        let error = try #require(throws: RunnelError.self) { try SchemaMigrator(directory: folder).migrate(store.app) }
        #expect(error.code == .migration)
        #expect(error.message.contains("0002_b.sql is not valid UTF-8: line 2, byte 37 (file offset 44) holds c3;"), "\(error)")
        #expect(try store.app.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runnel_schema_migrations") } == 0)
    }
}
