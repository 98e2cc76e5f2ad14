import Foundation
import Hummingbird

/// The API's JSON: snake_case keys, sorted, times in milliseconds since 1970 (as in
/// `runnel status --format json`).
enum JSONBody {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
        }
        return encoder
    }

    /// A response carrying `data` as JSON.
    static func response(_ data: Data, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A response carrying `value` encoded as JSON.
    static func response(_ value: some Encodable) throws -> Response {
        response(try encoder().encode(value))
    }
}
