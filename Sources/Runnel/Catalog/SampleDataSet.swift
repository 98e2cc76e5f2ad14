import Foundation
import GRDB

/// A deterministic data set of business operations, one JSON object per line, that exercises an
/// application's business functions (and so fills the outbox through the real API).
///
/// Runnel reads the file, batches the lines into transactions and records its progress in the
/// same transactions (`runnel sample load`); the data set only says how to generate lines and how
/// to apply one.
public protocol SampleDataSet: Sendable {
    /// A stable name for the data set, recorded in the home once it is loaded.
    var name: String { get }
    /// The parameters of the small data set that `runnel sample load` and `demo` use by default,
    /// generated in memory, so the program needs no data file beside it.
    var defaultParameters: SampleParameters { get }
    /// Writes a deterministic data set: the same parameters give the same bytes.
    /// - Parameters:
    ///   - parameters: Size, span and seed.
    ///   - write: Called with each line (without its newline), in order.
    func generate(_ parameters: SampleParameters, into write: (String) throws -> Void) throws
    /// Applies one line inside the caller's write transaction.
    /// - Parameters:
    ///   - line: One JSON object.
    ///   - outbox: The appender to announce events with.
    ///   - db: A connection inside a write transaction on `app.sqlite`.
    /// - Returns: How many outbox events the operation appended.
    func apply(_ line: String, outbox: Outbox, in db: Database) throws -> Int
}

/// The size, span and seed of a generated data set.
public struct SampleParameters: Sendable, Hashable {
    /// Number of members in the network.
    public var members: Int
    /// Simulated hours of activity.
    public var hours: Int
    /// Seed of the deterministic random generator.
    public var seed: UInt64
    /// When the simulated period starts.
    public var start: Date

    /// Creates parameters.
    public init(members: Int, hours: Int, seed: UInt64, start: Date) {
        self.members = members
        self.hours = hours
        self.seed = seed
        self.start = start
    }
}
