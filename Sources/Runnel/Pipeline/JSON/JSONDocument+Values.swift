import Foundation

/// Reading one scalar from the tape, by the value's tape index.
extension JSONDocument {
    func bool(at index: Int) throws(JSONValueError) -> Bool {
        switch tape[index].kind {
        case .true: return true
        case .false: return false
        default: throw mismatch(expected: "true or false", at: index)
        }
    }

    func integer<T: FixedWidthInteger>(_ type: T.Type, at index: Int) throws(JSONValueError) -> T {
        let node = tape[index]
        guard node.kind == .number else {
            throw mismatch(expected: "a number (\(T.self))", at: index)
        }
        let text = numberText(node)
        switch JSONNumber.integer(text, flags: node.flags) {
        case .value(let negative, let magnitude):
            if let value = JSONNumber.fitting(negative: negative, magnitude: magnitude, as: T.self) {
                return value
            }
        case .notIntegral:
            throw corrupted("the number \(String(decoding: text, as: UTF8.self)) at byte \(node.start) has a fraction, so it is not a valid \(T.self)")
        case .tooLarge:
            break
        }
        throw corrupted("the number \(String(decoding: text, as: UTF8.self)) at byte \(node.start) does not fit in \(T.self) (\(T.min)...\(T.max))")
    }

    func double(at index: Int) throws(JSONValueError) -> Double {
        try floatingPoint(at: index) { JSONNumber.double($0, flags: $1) }
    }

    func float(at index: Int) throws(JSONValueError) -> Float {
        try floatingPoint(at: index) { JSONNumber.float($0, flags: $1) }
    }

    @inline(__always)
    private func floatingPoint<T>(at index: Int, parse: (UnsafeBufferPointer<UInt8>, JSONNode.Flags) -> T?) throws(JSONValueError) -> T {
        let node = tape[index]
        guard node.kind == .number else {
            throw mismatch(expected: "a number (\(T.self))", at: index)
        }
        let text = numberText(node)
        guard let value = parse(text, node.flags) else {
            throw corrupted("the number \(String(decoding: text, as: UTF8.self)) at byte \(node.start) is out of the range of \(T.self)")
        }
        return value
    }

    func string(at index: Int) throws(JSONValueError) -> String {
        let node = tape[index]
        guard node.kind == .string else {
            throw mismatch(expected: "a string", at: index)
        }
        return makeString(node)
    }

    /// A date written as milliseconds since 1970, the encoding ``Outbox/makeEncoder()`` uses;
    /// computed as `JSONDecoder` does (`Double` milliseconds / 1000), so the two agree exactly.
    func date(at index: Int) throws(JSONValueError) -> Date {
        guard tape[index].kind == .number else {
            throw mismatch(expected: "a number of milliseconds since 1970 (Date)", at: index)
        }
        return Date(timeIntervalSince1970: try double(at: index) / 1000)
    }

    /// Data written as a Base64 string, `JSONEncoder`'s default.
    func data(at index: Int) throws(JSONValueError) -> Data {
        let node = tape[index]
        guard node.kind == .string else {
            throw mismatch(expected: "a Base64 string (Data)", at: index)
        }
        guard let data = Data(base64Encoded: makeString(node)) else {
            throw corrupted("the string at byte \(node.start) is not valid Base64")
        }
        return data
    }

    func url(at index: Int) throws(JSONValueError) -> URL {
        let node = tape[index]
        guard node.kind == .string else {
            throw mismatch(expected: "a URL string", at: index)
        }
        guard let url = URL(string: makeString(node)) else {
            throw corrupted("the string at byte \(node.start) is not a valid URL")
        }
        return url
    }

    /// A decimal read from the number's own digits, not through a `Double`.
    func decimal(at index: Int) throws(JSONValueError) -> Decimal {
        let node = tape[index]
        guard node.kind == .number else {
            throw mismatch(expected: "a number (Decimal)", at: index)
        }
        let text = String(decoding: numberText(node), as: UTF8.self)
        guard let decimal = Decimal(string: text, locale: nil), !decimal.isNaN else {
            throw corrupted("the number \(text) at byte \(node.start) is out of the range of Decimal")
        }
        return decimal
    }

    // MARK: - Types read directly

    /// Whether ``value(_:at:)`` reads `T` itself rather than through `T.init(from:)`.
    ///
    /// These are the types `JSONDecoder` decodes with its own strategies (`Date` as milliseconds
    /// since 1970, `Data` as Base64, `URL`, `Decimal`) and the standard scalars, whose
    /// `init(from:)` would only come back through a single-value container.
    @inline(__always)
    static func readsDirectly<T>(_ type: T.Type) -> Bool {
        T.self == Date.self || T.self == String.self || T.self == Int64.self || T.self == Int.self
            || T.self == Double.self || T.self == Bool.self || T.self == Int32.self || T.self == Int16.self
            || T.self == Int8.self || T.self == UInt64.self || T.self == UInt.self || T.self == UInt32.self
            || T.self == UInt16.self || T.self == UInt8.self || T.self == Float.self || T.self == Data.self
            || T.self == URL.self || T.self == Decimal.self
    }

    /// Reads a value of one of the types ``readsDirectly(_:)`` accepts.
    func value<T>(_ type: T.Type, at index: Int) throws(JSONValueError) -> T {
        if T.self == Date.self { return same(try date(at: index), as: T.self) }
        if T.self == String.self { return same(try string(at: index), as: T.self) }
        if T.self == Int64.self { return same(try integer(Int64.self, at: index), as: T.self) }
        if T.self == Int.self { return same(try integer(Int.self, at: index), as: T.self) }
        if T.self == Double.self { return same(try double(at: index), as: T.self) }
        if T.self == Bool.self { return same(try bool(at: index), as: T.self) }
        if T.self == Int32.self { return same(try integer(Int32.self, at: index), as: T.self) }
        if T.self == Int16.self { return same(try integer(Int16.self, at: index), as: T.self) }
        if T.self == Int8.self { return same(try integer(Int8.self, at: index), as: T.self) }
        if T.self == UInt64.self { return same(try integer(UInt64.self, at: index), as: T.self) }
        if T.self == UInt.self { return same(try integer(UInt.self, at: index), as: T.self) }
        if T.self == UInt32.self { return same(try integer(UInt32.self, at: index), as: T.self) }
        if T.self == UInt16.self { return same(try integer(UInt16.self, at: index), as: T.self) }
        if T.self == UInt8.self { return same(try integer(UInt8.self, at: index), as: T.self) }
        if T.self == Float.self { return same(try float(at: index), as: T.self) }
        if T.self == Data.self { return same(try data(at: index), as: T.self) }
        if T.self == URL.self { return same(try url(at: index), as: T.self) }
        if T.self == Decimal.self { return same(try decimal(at: index), as: T.self) }
        preconditionFailure("\(T.self) is not read directly; check readsDirectly(_:) first")
    }

    // MARK: - Helpers

    /// The bytes of a number node.
    @inline(__always)
    private func numberText(_ node: JSONNode) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: bytes + Int(node.start), count: Int(node.length))
    }

    /// A `valueNotFound` error when the value is null, `typeMismatch` otherwise.
    func mismatch(expected: String, at index: Int) -> JSONValueError {
        let node = tape[index]
        return JSONValueError(kind: node.kind == .null ? .valueNotFound : .typeMismatch,
                              message: "expected \(expected) at byte \(node.start), found \(describe(node))")
    }

    private func corrupted(_ message: String) -> JSONValueError {
        JSONValueError(kind: .dataCorrupted, message: message)
    }
}

/// `value` as `T`, once the caller has checked that `T` is `Value`: a plain copy, where `as! T`
/// would cost a dynamic cast in unspecialized generic code.
@inline(__always)
private func same<Value, T>(_ value: Value, as type: T.Type) -> T {
    unsafeBitCast(value, to: T.self)
}
