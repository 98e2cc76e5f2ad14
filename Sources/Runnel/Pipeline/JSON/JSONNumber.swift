/// Converts the bytes of a number the scanner has validated into Swift numbers, exactly.
///
/// Integers are read digit by digit, so an `Int64` is never rounded through a `Double`; a number
/// with a fraction or exponent is an integer only if its exact decimal value is whole (`1.0`,
/// `1e2`, `100e-2`), unlike `JSONDecoder`, which reads `1.00000000000000000001` as 1. Doubles
/// and floats take Clinger's exact fast path when the digits allow it and the C library's
/// correctly rounded `strtod`/`strtof` otherwise, so they equal what `JSONDecoder` returns.
enum JSONNumber {
    /// The integer a number denotes, or why it has none.
    enum Integer {
        case value(negative: Bool, magnitude: UInt64)
        /// The number has a non-zero fraction.
        case notIntegral
        /// The magnitude is 2^64 or more.
        case tooLarge
    }

    /// The value of a validated number as an integer.
    static func integer(_ text: UnsafeBufferPointer<UInt8>, flags: JSONNode.Flags) -> Integer {
        let negative = text[0] == UInt8(ascii: "-")
        if !flags.contains(.fractionOrExponent) {
            let first = negative ? 1 : 0
            if text.count - first <= 19 {
                // Nineteen digits cannot overflow a UInt64: no checks in the common case.
                var magnitude: UInt64 = 0
                for index in first..<text.count {
                    magnitude = magnitude &* 10 &+ UInt64(text[index] &- UInt8(ascii: "0"))
                }
                return .value(negative: negative, magnitude: magnitude)
            }
        }
        let decimal = ScaledDigits(text)
        if decimal.digitCount == 0 {
            return .value(negative: negative, magnitude: 0)
        }
        if decimal.scale < 0 {
            return .notIntegral
        }
        guard !decimal.overflowed, decimal.digitCount + decimal.scale <= 20 else {
            return .tooLarge
        }
        var magnitude = decimal.significand
        for _ in 0..<decimal.scale {
            let (product, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            if overflow { return .tooLarge }
            magnitude = product
        }
        return .value(negative: negative, magnitude: magnitude)
    }

    /// `magnitude` with its sign as a `T`, or nil when it does not fit.
    static func fitting<T: FixedWidthInteger>(negative: Bool, magnitude: UInt64, as type: T.Type) -> T? {
        if !negative || magnitude == 0 {
            return T(exactly: magnitude)
        }
        // The magnitude of T.min is T.max + 1, so fit magnitude - 1 and subtract from -1.
        guard T.isSigned, let belowMagnitude = T(exactly: magnitude - 1) else { return nil }
        return (0 as T) &- belowMagnitude &- 1
    }

    /// The value of a validated number as a `Double`, or nil when it is out of range (it would
    /// round to infinity, or a non-zero number would round to zero).
    static func double(_ text: UnsafeBufferPointer<UInt8>, flags: JSONNode.Flags) -> Double? {
        let negative = text[0] == UInt8(ascii: "-")
        if !flags.contains(.fractionOrExponent), text.count - (negative ? 1 : 0) <= 15,
           case .value(_, let magnitude) = integer(text, flags: flags) {
            // Below 10^15 every integer is a Double: no rounding. (`-0` stays negative zero.)
            let value = Double(magnitude)
            return negative ? -value : value
        }
        let decimal = ScaledDigits(text)
        if decimal.digitCount == 0 {
            return negative ? -0.0 : 0.0
        }
        if decimal.digitCount <= 15, (-22...22).contains(decimal.scale) {
            // Clinger's fast path: both operands are exact, so one IEEE operation rounds correctly.
            let significand = Double(decimal.significand)
            let power = exactPowersOfTen[abs(decimal.scale)]
            let value = decimal.scale < 0 ? significand / power : significand * power
            return negative ? -value : value
        }
        guard let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite, value != 0 else {
            return nil
        }
        return value
    }

    /// The value of a validated number as a `Float`, with the same range rules as ``double(_:flags:)``.
    static func float(_ text: UnsafeBufferPointer<UInt8>, flags: JSONNode.Flags) -> Float? {
        let decimal = ScaledDigits(text)
        let negative = text[0] == UInt8(ascii: "-")
        if decimal.digitCount == 0 {
            return negative ? -0.0 : 0.0
        }
        if decimal.digitCount <= 7, (-10...10).contains(decimal.scale) {
            // Clinger's fast path for Float: 10^7 < 2^24 and 10^10 is exact in a Float.
            let significand = Float(decimal.significand)
            let power = Float(exactPowersOfTen[abs(decimal.scale)])
            let value = decimal.scale < 0 ? significand / power : significand * power
            return negative ? -value : value
        }
        guard let value = Float(String(decoding: text, as: UTF8.self)), value.isFinite, value != 0 else {
            return nil
        }
        return value
    }

    /// 10^0 through 10^22, every one exact in a `Double`.
    private static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]
}

/// A validated number as significant digits times a power of ten, without leading or trailing
/// zeros: `-120.50e1` is 1205 × 10^0.
private struct ScaledDigits {
    /// The significant digits as an integer (exact when ``overflowed`` is false).
    var significand: UInt64 = 0
    /// The number of significant digits; 0 for any zero.
    var digitCount = 0
    /// The power of ten the significand is multiplied by.
    var scale = 0
    /// The significant digits did not fit in a UInt64.
    var overflowed = false

    init(_ text: UnsafeBufferPointer<UInt8>) {
        var index = text[0] == UInt8(ascii: "-") ? 1 : 0
        var fractionDigits = 0
        var trailingZeros = 0
        var inFraction = false
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: ".") {
                inFraction = true
            } else if byte | 0x20 == UInt8(ascii: "e") {
                break
            } else {
                let digit = byte &- UInt8(ascii: "0")
                if inFraction { fractionDigits += 1 }
                if digit == 0 {
                    // Zeros count only once a non-zero digit follows them.
                    if digitCount > 0 { trailingZeros += 1 }
                } else {
                    for _ in 0..<trailingZeros { append(0) }
                    trailingZeros = 0
                    append(digit)
                }
            }
            index += 1
        }
        var exponent = 0
        if index < text.count {
            index += 1
            var exponentIsNegative = false
            if text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
                exponentIsNegative = text[index] == UInt8(ascii: "-")
                index += 1
            }
            while index < text.count {
                // Saturate: any exponent this large already decides the outcome.
                if exponent < 1 << 40 {
                    exponent = exponent * 10 + Int(text[index] &- UInt8(ascii: "0"))
                }
                index += 1
            }
            if exponentIsNegative { exponent = -exponent }
        }
        scale = exponent - fractionDigits + trailingZeros
    }

    private mutating func append(_ digit: UInt8) {
        digitCount += 1
        let (product, overflowA) = significand.multipliedReportingOverflow(by: 10)
        let (sum, overflowB) = product.addingReportingOverflow(UInt64(digit))
        if overflowA || overflowB { overflowed = true }
        significand = sum
    }
}
