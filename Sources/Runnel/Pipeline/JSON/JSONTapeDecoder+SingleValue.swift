/// The decoder is its own single-value container, as in `JSONDecoder`: it already knows the
/// current value and path, and returning `self` boxes nothing.
extension JSONTapeDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool {
        document.tape[current].kind == .null
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        try read(type) { try $0.bool(at: $1) }
    }

    func decode(_ type: String.Type) throws -> String {
        try read(type) { try $0.string(at: $1) }
    }

    func decode(_ type: Double.Type) throws -> Double {
        try read(type) { try $0.double(at: $1) }
    }

    func decode(_ type: Float.Type) throws -> Float {
        try read(type) { try $0.float(at: $1) }
    }

    func decode(_ type: Int.Type) throws -> Int {
        try read(type) { try $0.integer(type, at: $1) }
    }

    func decode(_ type: Int8.Type) throws -> Int8 {
        try read(type) { try $0.integer(type, at: $1) }
    }

    func decode(_ type: Int16.Type) throws -> Int16 {
        try read(type) { try $0.integer(type, at: $1) }
    }

    func decode(_ type: Int32.Type) throws -> Int32 {
        try read(type) { try $0.integer(type, at: $1) }
    }

    func decode(_ type: Int64.Type) throws -> Int64 {
        try read(type) { try $0.integer(type, at: $1) }
    }

    func decode(_ type: UInt.Type) throws -> UInt {
        try read(type) { try $0.integer(type, at: $1) }
    }

    func decode(_ type: UInt8.Type) throws -> UInt8 {
        try read(type) { try $0.integer(type, at: $1) }
    }

    func decode(_ type: UInt16.Type) throws -> UInt16 {
        try read(type) { try $0.integer(type, at: $1) }
    }

    func decode(_ type: UInt32.Type) throws -> UInt32 {
        try read(type) { try $0.integer(type, at: $1) }
    }

    func decode(_ type: UInt64.Type) throws -> UInt64 {
        try read(type) { try $0.integer(type, at: $1) }
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decode(type, at: current, path: currentPath, key: nil)
    }

    /// Reads the current value with `reader`, adding the coding path to its error.
    @inline(__always)
    private func read<T>(_ type: T.Type, _ reader: (JSONDocument, Int) throws -> T) throws -> T {
        do {
            return try reader(document, current)
        } catch let error as JSONValueError {
            throw error.decodingError(type, path: currentPath, key: nil)
        }
    }
}
