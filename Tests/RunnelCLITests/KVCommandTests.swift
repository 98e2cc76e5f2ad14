import Foundation
import Pipelines
import Runnel
import RunnelTesting
import Testing

/// `runnel kv …` on a home where the sample pipelines published their stores.
@Suite struct KVCommandTests {
    static func publishedHome() async throws -> TemporaryHome {
        let temporary = try TemporaryHome(label: "kv-cli")
        _ = try temporary.openStoreWithSampleData(SampleCatalog.catalog)
        let run = await runnel("run", "member-features", "member-headlines", "--home", temporary.home.url.path)
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("published kv/member-features v1: 100 keys"))
        return temporary
    }

    @Test func listGetAndVersionsShowWhatWasPublished() async throws {
        let temporary = try await Self.publishedHome()
        let home = temporary.home.url.path
        let list = await runnel("kv", "list", "--home", home)
        #expect(list.status == 0)
        #expect(list.output.contains("member-features"))
        #expect(list.output.contains("member-headlines"))

        let json = await runnel("kv", "get", "member-features", "42", "--format", "json", "--home", home)
        #expect(json.status == 0, "\(json.error)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect(object["store"] as? String == "member-features")
        #expect(object["version"] as? Int == 1)
        #expect(object["key"] as? String == "42")
        #expect((object["value"] as? [String: Any])?["member_id"] as? Int == 42)

        let text = await runnel("kv", "get", "member-headlines", "42", "--home", home)
        #expect(text.status == 0)
        #expect(!text.output.isEmpty && !text.output.contains("{"))

        let absent = await runnel("kv", "get", "member-features", "4242", "--home", home)
        #expect(absent.status == 1)
        #expect(absent.error.contains("key 4242 is not in KV store member-features (version 1, 100 keys)"))
        let noStore = await runnel("kv", "get", "nope", "1", "--home", home)
        #expect(noStore.status == 1)
        #expect(noStore.error.contains("has no version yet"))
        let badHex = await runnel("kv", "get", "member-features", "0xabc", "--home", home)
        #expect(badHex.status == 1)
        #expect(badHex.error.contains("odd number of hex digits"))

        let versions = await runnel("kv", "versions", "member-features", "--format", "json", "--home", home)
        #expect(versions.status == 0)
        #expect(versions.output.contains(#""current":"*""#))
        #expect(versions.output.contains("member-activity/0@"))
    }

    @Test func publishRollbackAndVerify() async throws {
        let temporary = try await Self.publishedHome()
        let home = temporary.home.url.path
        let publish = await runnel("kv", "publish", "member-features", "--home", home)
        #expect(publish.status == 0)
        #expect(publish.output.contains("member-features v2: 100 keys"))

        let rollback = await runnel("kv", "rollback", "member-features", "--home", home)
        #expect(rollback.status == 0)
        #expect(rollback.output.contains("member-features now serves v1 (was v2)"))
        let forward = await runnel("kv", "rollback", "member-features", "--to", "2", "--home", home)
        #expect(forward.output.contains("now serves v2 (was v1)"))
        let missing = await runnel("kv", "rollback", "member-features", "--to", "7", "--home", home)
        #expect(missing.status == 1)
        #expect(missing.error.contains("has no version 7; it keeps v1, v2"))

        let verify = await runnel("kv", "verify", "member-features", "--home", home)
        #expect(verify.status == 0, "\(verify.output) \(verify.error)")
        #expect(verify.output.contains("v1: ok, 100 keys"))
        #expect(verify.output.contains("v2 (current): ok, 100 keys"))

        let folder = try KVStoreFolder(home: temporary.home, name: "member-features")
        let data = folder.versionURL(1).appendingPathComponent("data.rkv")
        let handle = try FileHandle(forUpdating: data)
        try handle.seek(toOffset: 100)
        try handle.write(contentsOf: [0xFF, 0x00, 0xFF])
        try handle.close()
        let damaged = await runnel("kv", "verify", "member-features", "--home", home)
        #expect(damaged.status == 1)
        #expect(damaged.output.contains("v1: DAMAGED"))
        #expect(damaged.output.contains("block 0 (bytes 0–"))
        #expect(damaged.output.contains("v2 (current): ok"))
        #expect(damaged.error.contains("1 problem found"))
        let refused = await runnel("kv", "rollback", "member-features", "--home", home)
        #expect(refused.status == 1)
        #expect(refused.error.contains("is damaged"))
    }

    @Test func listOnAnEmptyHomeSaysWhatToDo() async throws {
        let temporary = try TemporaryHome(label: "kv-empty")
        let list = await runnel("kv", "list", "--home", temporary.home.url.path)
        #expect(list.status == 0)
        #expect(list.output.contains("No KV stores"))
        #expect(!temporary.home.isInitialized, "listing creates nothing")
    }
}
