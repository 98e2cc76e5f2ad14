import Foundation
import GRDB
import Runnel

/// The sample network's data set: by default the small one committed as `sample-data/network.jsonl`
/// (generated in memory from ``defaultParameters``, the same bytes), or a larger one made by
/// `runnel sample generate`.
public struct NetworkDataSet: SampleDataSet {
    public init() {}

    public var name: String { "network" }

    /// The committed copy of the default data set, for readers and for the tests that hold the
    /// generator to it; the program itself generates the lines.
    public var committedFile: URL {
        SampleCatalog.repositoryRoot.appendingPathComponent("sample-data/network.jsonl")
    }

    /// 100 members over 6 hours from Monday 2026-01-05 08:00 UTC, seed 42: about 4,000 operations.
    public var defaultParameters: SampleParameters {
        SampleParameters(members: 100, hours: 6, seed: 42, start: Date(timeIntervalSince1970: 1_767_600_000))
    }

    public func generate(_ parameters: SampleParameters, into write: (String) throws -> Void) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var generator = NetworkGenerator(parameters)
        for operation in generator.operations() {
            try write(String(decoding: try encoder.encode(operation), as: UTF8.self))
        }
    }

    public func apply(_ line: String, outbox: Outbox, in db: Database) throws -> Int {
        let operation: NetworkOperation
        do {
            operation = try JSONDecoder().decode(NetworkOperation.self, from: Data(line.utf8))
        } catch {
            throw NetworkError("not a network operation (\(Self.describe(error))): \(line.prefix(80))")
        }
        return try operation.apply(with: Network(outbox: outbox), in: db)
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "wrong type at \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\""
        case DecodingError.dataCorrupted: "not valid JSON"
        default: "\(error)"
        }
    }
}
