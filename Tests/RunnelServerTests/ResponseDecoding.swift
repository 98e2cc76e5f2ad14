import Foundation
import GRDB

/// `/api/views/{name}` as the tests read it.
struct ViewPage: Decodable {
    enum Cell: Decodable, Equatable {
        /// Numbers as doubles: JSON writes a whole double without its fraction.
        case null, number(Double), text(String)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let number = try? container.decode(Double.self) { self = .number(number) }
            else { self = .text(try container.decode(String.self)) }
        }

        init(_ value: DatabaseValue) {
            switch value.storage {
            case .null: self = .null
            case .int64(let number): self = .number(Double(number))
            case .double(let number): self = .number(number)
            case .string(let text): self = .text(text)
            case .blob(let data): self = .text(data.base64EncodedString())
            }
        }
    }

    var totalRows: Int
    var columns: [String]
    var rows: [[Cell]]
}

extension JSONDecoder {
    static var snakeCase: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}

/// HTML escaping as Mustache does it, to look for a message in a page.
enum HTML {
    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
