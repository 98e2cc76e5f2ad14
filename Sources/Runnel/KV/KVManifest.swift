import Foundation

/// A KV version's `manifest.json`: what the version holds, where it came from, and the checksum
/// of its whole data file. Written last into the version's build folder, before the folder is
/// renamed into place (`docs/kv-format.md`).
public struct KVManifest: Codable, Sendable, Equatable {
    /// How far a source pipeline had read one partition when the version was built.
    public struct SourceOffset: Codable, Sendable, Equatable {
        public var topic: String
        public var partition: Int
        /// The next offset the pipeline would read: the version reflects every record before it.
        public var nextOffset: Int64

        package init(topic: String, partition: Int, nextOffset: Int64) {
            self.topic = topic
            self.partition = partition
            self.nextOffset = nextOffset
        }
    }

    /// The manifest's own format.
    public var format: Int = 1
    /// The store's name.
    public var store: String
    /// The version number, from 1.
    public var version: Int
    /// The pipeline that built the version (nil for a store written by application code).
    public var pipeline: String?
    /// The pipeline's version.
    public var pipelineVersion: Int?
    /// The log offsets the version was built from.
    public var sourceOffsets: [SourceOffset]
    /// How many keys it holds.
    public var keyCount: Int
    /// The data file's name inside the version folder.
    public var dataFile: String = "data.rkv"
    /// The data file's size in bytes.
    public var fileSize: Int
    /// The SHA-256 of the whole data file, lower-case hex.
    public var sha256: String
    /// When the build finished.
    public var builtAt: Date
    /// How long the build took, in milliseconds.
    public var buildMilliseconds: Int64

    package init(store: String, version: Int, pipeline: String?, pipelineVersion: Int?, sourceOffsets: [SourceOffset],
                keyCount: Int, fileSize: Int, sha256: String, builtAt: Date, buildMilliseconds: Int64) {
        self.store = store
        self.version = version
        self.pipeline = pipeline
        self.pipelineVersion = pipelineVersion
        self.sourceOffsets = sourceOffsets
        self.keyCount = keyCount
        self.fileSize = fileSize
        self.sha256 = sha256
        self.builtAt = builtAt
        self.buildMilliseconds = buildMilliseconds
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// Reads a version folder's manifest.
    static func read(from url: URL) throws -> KVManifest {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let reason = error.localizedDescription.trimmingCharacters(in: CharacterSet(charactersIn: ". "))
            throw RunnelError(.corruptKV, "cannot read \(url.path): \(reason)",
                              hint: "Roll the store back with `runnel kv rollback`, or build a new version with `runnel kv publish`")
        }
        do {
            return try decoder().decode(KVManifest.self, from: data)
        } catch {
            throw RunnelError(.corruptKV, "\(url.path) is not a valid KV manifest: \(DecodingProblem.describe(error))",
                              hint: "Roll the store back with `runnel kv rollback`, or build a new version with `runnel kv publish`")
        }
    }
}
