import Foundation

extension CronExpression {
    /// The times an expression fires after a start, computed one at a time as the sequence is
    /// read (see ``CronExpression/fireTimes(after:in:)``).
    public struct FireTimes: Sequence, Sendable {
        let expression: CronExpression
        let start: Date
        let timeZone: TimeZone

        public func makeIterator() -> Iterator {
            Iterator(expression: expression, last: start, timeZone: timeZone)
        }

        /// Walks the fire times: each is the next fire time after the one before.
        public struct Iterator: IteratorProtocol, Sendable {
            let expression: CronExpression
            /// The last time returned (the start at first); nil once the expression stops firing.
            var last: Date?
            let timeZone: TimeZone

            public mutating func next() -> Date? {
                guard let after = last else { return nil }
                last = expression.nextFireTime(after: after, in: timeZone)
                return last
            }
        }
    }
}
