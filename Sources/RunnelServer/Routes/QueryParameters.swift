import Hummingbird

/// The query parameters of a request, read and checked one by one: a value out of its range is a
/// 400 that names the parameter and what it takes, never a silently clamped value.
struct QueryParameters {
    let parameters: Parameters

    init(_ request: Request) {
        parameters = request.uri.queryParameters
    }

    /// An integer parameter within `range`, or `default` when absent.
    /// - Throws: ``DashboardError`` 400 when it is not an integer in `range`.
    func integer(_ name: String, in range: ClosedRange<Int>, default value: Int) throws -> Int {
        guard let text = parameters[name[...]].map(String.init) else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw DashboardError.badParameter(name, text, allowed: "an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// A parameter that takes one of `allowed`, or `default` when absent.
    /// - Throws: ``DashboardError`` 400 when it is none of them.
    func choice(_ name: String, from allowed: [String], default value: String?) throws -> String? {
        guard let text = parameters[name[...]].map(String.init) else { return value }
        guard allowed.contains(text) else {
            throw DashboardError.badParameter(name, text, allowed: "one of " + allowed.joined(separator: ", "))
        }
        return text
    }

    /// A free text parameter (bound as a value, never part of SQL), or nil when absent or empty.
    func text(_ name: String) -> String? {
        parameters[name[...]].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
    }
}
