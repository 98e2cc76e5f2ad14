/// A business rule of the sample network was broken (an unknown member, an invitation that is
/// no longer pending, …). The transaction it happened in rolls back whole.
public struct NetworkError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What rule was broken, naming the ids involved.
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
