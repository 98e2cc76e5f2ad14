import Foundation

/// Everything an operator looks at, read at one moment from a home's databases, log and KV
/// folders, without locking or writing anything: what `runnel status` prints, what the
/// dashboard's status page and `/api/status` show. Its JSON form (keys in snake case, times in
/// milliseconds since 1970) is described in `docs/operations.md`.
package struct HomeStatus: Sendable, Equatable, Codable {
    /// When it was read.
    package var readAt: Int64
    /// The home folder.
    package var home: String
    /// The pid of the process writing the log (the relay), nil when none does.
    package var relayPid: Int32?
    package var databases: [DatabaseStatus]
    package var topics: [TopicStatus]
    package var pipelines: [RunnerStatus]
    package var handlers: [RunnerStatus]
    /// One per saga: its coordinator, with the instance counts.
    package var sagas: [SagaStatus]
    package var kvStores: [KVStoreStatus]
    package var schedules: [ScheduleStatus]
    /// Nil when the catalog keeps no exception tickets.
    package var tickets: TicketsStatus?
    /// The last `runnel log verify` and `runnel kv verify` of each target.
    package var verifications: [VerificationStatus]
    /// What needs someone, by the rules of the ``StatusCheck`` it was read with.
    package var problems: [StatusCheck.Problem] = []
}

extension HomeStatus {
    /// One database's outbox: what the relay still has to carry.
    package struct DatabaseStatus: Sendable, Equatable, Codable {
        /// `app.sqlite` or `derived.sqlite`.
        package var database: String
        package var outboxBacklog: Int
        /// How long the oldest row has waited, nil when none waits.
        package var oldestPendingMs: Int64?
        /// Rows in `runnel_outbox_dead_letters`.
        package var outboxDeadLetters: Int
    }

    /// A topic of the log.
    package struct TopicStatus: Sendable, Equatable, Codable {
        package var name: String
        /// Records held now (end minus start offsets: retention and compaction lower it).
        package var records: Int64
        package var bytes: Int64
        /// Each partition's end offset, by partition number.
        package var endOffsets: [Int64]
        /// The newest record's timestamp (event time), nil when the topic is empty.
        package var newestTimestamp: Int64?
    }

    /// What runs over the log: a pipeline, a handler or a saga's coordinator.
    package struct RunnerStatus: Sendable, Equatable, Codable {
        package var name: String
        /// `ok`, `not run`, `needs rebuild …`, `rebuilding …` (see ``PipelineStatus/State``).
        package var state: String
        /// The pid of the process running it now (holding its lock), nil when none does.
        package var runningPid: Int32?
        /// Records read and committed, over its life (since its last rebuild for a pipeline).
        package var records: Int64
        /// Records in the log it has not committed yet.
        package var lagEvents: Int64
        /// How far, in event time, the newest record of its topics is ahead of the last it read.
        package var lagMs: Int64
        /// A pipeline's watermark: the event time every input partition has reached (windows
        /// close once it passes their end plus the allowed lateness). Nil for consumers.
        package var watermark: Int64?
        package var lastCommitAt: Int64?
        package var deadLetters: Int
        /// Events past the allowed lateness, kept in `runnel_pipeline_late_events` (pipelines).
        package var lateEvents: Int
    }

    /// A saga's instances by state, and its coordinator.
    package struct SagaStatus: Sendable, Equatable, Codable {
        package var saga: String
        package var coordinator: RunnerStatus
        package var running: Int
        package var compensating: Int
        package var completed: Int
        package var compensated: Int
        package var failed: Int
        /// Instances whose deadline passed more than a minute ago: the coordinator is not
        /// running or is behind.
        package var pastDeadline: Int
    }

    /// A KV store's current version.
    package struct KVStoreStatus: Sendable, Equatable, Codable {
        package var store: String
        /// Nil before the first build.
        package var version: Int?
        package var keys: Int?
        package var bytes: Int?
        package var builtAt: Int64?
        package var ageMs: Int64?
        /// Why the version could not be read (a damaged `CURRENT` or manifest), if it could not.
        package var problem: String?
    }

    /// A schedule entry: when it fires next, and how its last run ended.
    package struct ScheduleStatus: Sendable, Equatable, Codable {
        package var entry: String
        package var expression: String
        package var nextFireAt: Int64?
        package var lastFireTime: Int64?
        /// `succeeded`, `failed`, `skipped`, …; nil before the first run.
        package var lastOutcome: String?
        package var lastReason: String?
    }

    /// Exception tickets: how many are open, how many opened this hour.
    package struct TicketsStatus: Sendable, Equatable, Codable {
        package var open: Int
        /// Tickets opened or reopened since the start of the current hour (UTC).
        package var newThisHour: Int
        /// Exceptions counted in the current hour.
        package var exceptionsThisHour: Int64
    }

    /// The last verification of the log or a KV store.
    package struct VerificationStatus: Sendable, Equatable, Codable {
        /// `log` or `kv/<store>`.
        package var target: String
        package var checkedAt: Int64
        /// Damaged places found; 0 when sound.
        package var damaged: Int
        /// The first damage, as the verify command reported it.
        package var firstDamage: String?
    }
}

extension HomeStatus {
    /// The status as one JSON object: keys in snake case and sorted, times in milliseconds.
    package func json() -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        // Plain integers, strings and optionals of them: nothing here can fail to encode.
        return (try? encoder.encode(self)) ?? Data("{}".utf8)
    }
}
