import Foundation
import GRDB

/// The compact binary form of operator state kept in `runnel_pipeline_state`: a list of values,
/// each a tag byte and its bytes (`docs/pipelines.md` describes it). Written for every changed
/// window at the end of a batch, so it avoids JSON.
struct StateWriter {
    private(set) var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(64)
    }

    mutating func value(_ value: DatabaseValue) {
        switch value.storage {
        case .null:
            bytes.append(0)
        case .int64(let number):
            bytes.append(1)
            int64(number)
        case .double(let number):
            bytes.append(2)
            int64(Int64(bitPattern: number.bitPattern))
        case .string(let text):
            bytes.append(3)
            let utf8 = Array(text.utf8)
            int64(Int64(utf8.count))
            bytes.append(contentsOf: utf8)
        case .blob(let data):
            bytes.append(4)
            int64(Int64(data.count))
            bytes.append(contentsOf: data)
        }
    }

    mutating func int64(_ number: Int64) {
        withUnsafeBytes(of: number.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func values(_ values: [DatabaseValue]) {
        int64(Int64(values.count))
        for value in values { self.value(value) }
    }

}

/// Reads what ``StateWriter`` wrote; any mismatch is reported as damaged state.
struct StateReader {
    struct Damaged: Error {}

    private let bytes: [UInt8]
    private var position = 0

    init(_ data: Data) {
        bytes = Array(data)
    }

    var isAtEnd: Bool { position == bytes.count }

    mutating func int64() throws -> Int64 {
        guard position + 8 <= bytes.count else { throw Damaged() }
        var number: Int64 = 0
        withUnsafeMutableBytes(of: &number) { $0.copyBytes(from: bytes[position..<position + 8]) }
        position += 8
        return Int64(littleEndian: number)
    }

    mutating func value() throws -> DatabaseValue {
        guard position < bytes.count else { throw Damaged() }
        let tag = bytes[position]
        position += 1
        switch tag {
        case 0: return .null
        case 1: return try int64().databaseValue
        case 2: return Double(bitPattern: UInt64(bitPattern: try int64())).databaseValue
        case 3, 4:
            let count = Int(try int64())
            guard count >= 0, position + count <= bytes.count else { throw Damaged() }
            let slice = bytes[position..<position + count]
            position += count
            return tag == 3 ? String(decoding: slice, as: UTF8.self).databaseValue : Data(slice).databaseValue
        default:
            throw Damaged()
        }
    }

    mutating func values() throws -> [DatabaseValue] {
        let count = Int(try int64())
        guard count >= 0, count <= bytes.count else { throw Damaged() }
        return try (0..<count).map { _ in try value() }
    }
}
