import Foundation

/// An error a user can act on: what failed, where, and what to do about it.
///
/// Modelled on GRDB's `DatabaseError` and ServiceLifecycle's `ServiceGroupError`: a value with a
/// ``Code`` that programs can match, and a message written for the person at the terminal. The CLI
/// prints ``description`` on one line, without a stack trace.
///
/// ```swift
/// do { try outbox.append(event, in: db) }
/// catch let error as RunnelError where error.code == .invalidTopic { … }
/// ```
public struct RunnelError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is; stable across releases, unlike the message.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, as printed in logs.
        public let name: String

        public var description: String { name }

        /// The home folder is missing or cannot be used.
        public static let home = Code(name: "home")
        /// A topic name breaks the naming rules.
        public static let invalidTopic = Code(name: "invalid-topic")
        /// An event breaks a limit or a rule of the outbox (payload size, key size, type name).
        public static let invalidEvent = Code(name: "invalid-event")
        /// An outbox append was attempted outside a write transaction.
        public static let notInWriteTransaction = Code(name: "not-in-write-transaction")
        /// A business migration file or the record of applied migrations is inconsistent.
        public static let migration = Code(name: "migration")
        /// A write was attempted through a read-only access path.
        public static let readOnly = Code(name: "read-only")
        /// A table, column or other named object does not exist.
        public static let notFound = Code(name: "not-found")
        /// Sample data could not be read, generated or loaded.
        public static let sampleData = Code(name: "sample-data")
        /// A user-supplied argument is invalid.
        public static let invalidArgument = Code(name: "invalid-argument")
        /// A file could not be read or written.
        public static let io = Code(name: "io")
        /// A log segment is damaged (a batch fails its checksum or does not parse).
        public static let corruptLog = Code(name: "corrupt-log")
        /// The log is locked by another writer.
        public static let logLocked = Code(name: "log-locked")
        /// A pipeline's definition is invalid, or its run failed.
        public static let pipeline = Code(name: "pipeline")
        /// A handler's or saga's definition is invalid, a saga instance cannot take an operator's
        /// action, or a handler was asked for something its record cannot give.
        public static let saga = Code(name: "saga")
        /// A pipeline's version differs from the version its saved state was built by.
        public static let pipelineVersion = Code(name: "pipeline-version")
        /// A KV store is missing, has no version, or cannot be built or switched.
        public static let kv = Code(name: "kv")
        /// A KV store's file is damaged (a block or the whole version fails its checksum).
        public static let corruptKV = Code(name: "corrupt-kv")
        /// The log is missing a range of offsets (a segment was deleted or lost).
        public static let logGap = Code(name: "log-gap")
        /// A SQLite database failed: full disk, damaged file, I/O error (the message names the file).
        public static let database = Code(name: "database")
        /// Another process is already running this pipeline (or handler, or coordinator), or
        /// committed a batch from under this one.
        public static let concurrentRunner = Code(name: "concurrent-runner")
        /// A query ran past its time limit and was interrupted.
        public static let timeout = Code(name: "timeout")
        /// A schedule's cron expression, time zone or policy is invalid, or a scheduled run failed.
        public static let schedule = Code(name: "schedule")
        /// An exception ticket is missing or cannot be changed as asked, or a report or
        /// notification could not be made.
        public static let tickets = Code(name: "tickets")
        /// A Kafka cluster refused or failed a request, or could not be reached in time
        /// (RunnelKafka); nothing was lost, and a retry may succeed.
        public static let kafka = Code(name: "kafka")
        /// The Kafka cluster refuses what Runnel needs, and retrying will not help: a topic with
        /// another partition count than the log's, records a mirror did not write, a record over
        /// the topic's size limit, missing rights. The message says what does.
        public static let kafkaRefused = Code(name: "kafka-refused")
    }

    /// What kind of failure this is.
    public let code: Code
    /// What failed and where.
    public let message: String
    /// What the user can do about it, if anything.
    public let hint: String?

    /// Creates an error.
    /// - Parameters:
    ///   - code: What kind of failure this is.
    ///   - message: What failed and where (a file, a table, a byte offset).
    ///   - hint: What to do about it.
    public init(_ code: Code, _ message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    public var description: String {
        guard let hint else { return message }
        return "\(message). \(hint)"
    }
}

extension RunnelError: LocalizedError {
    public var errorDescription: String? { description }
}
