/// Numbers as the reports print them. `String(_:)` of an integer never groups digits or
/// consults a locale; decimals are written here from integer arithmetic for the same reason,
/// and so that SVG coordinates always carry the same number of digits.
enum ReportNumber {
    /// `value` with one decimal, rounded half away from zero: `12.0`, `263.5`, `-0.5`.
    static func oneDecimal(_ value: Double) -> String {
        guard value.isFinite else { return "0.0" }
        let tenths = Int64((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        let magnitude = tenths.magnitude
        return sign + String(magnitude / 10) + "." + String(magnitude % 10)
    }

    /// `1 exception`, `12 exceptions`.
    static func count(_ value: Int64, _ singular: String, _ plural: String) -> String {
        String(value) + " " + (value == 1 ? singular : plural)
    }
}
