import Foundation

/// A topic's settings, stored beside its data in `log/<topic>/topic.json`.
public struct TopicConfiguration: Codable, Sendable, Hashable {
    /// Number of partitions, fixed at creation.
    public var partitions: Int
    /// Delete closed segments whose newest record is older than this (milliseconds); nil keeps all.
    public var retentionMs: Int64?
    /// Delete the oldest closed segments while the partition is larger than this; nil for no limit.
    public var retentionBytes: Int64?
    /// Roll to a new segment past this size.
    public var segmentBytes: Int
    /// Roll to a new segment when the active one is older than this (milliseconds).
    public var segmentMs: Int64
    /// Keep only the newest record per key in closed segments.
    public var compact: Bool
    /// How long tombstones (records with a null value) survive compaction (milliseconds).
    public var deleteRetentionMs: Int64
    /// The largest record (key, value and headers) the topic accepts, in bytes.
    public var maxRecordBytes: Int

    /// Defaults: 1 partition, 7 days retention, 64 MiB segments rolled daily, no compaction,
    /// tombstones kept a day, records up to 1 MiB (Kafka's `max.message.bytes`).
    public init(
        partitions: Int = 1,
        retentionMs: Int64? = 7 * 24 * 3_600_000,
        retentionBytes: Int64? = nil,
        segmentBytes: Int = 64 << 20,
        segmentMs: Int64 = 24 * 3_600_000,
        compact: Bool = false,
        deleteRetentionMs: Int64 = 24 * 3_600_000,
        maxRecordBytes: Int = 1_048_588
    ) {
        self.partitions = partitions
        self.retentionMs = retentionMs
        self.retentionBytes = retentionBytes
        self.segmentBytes = segmentBytes
        self.segmentMs = segmentMs
        self.compact = compact
        self.deleteRetentionMs = deleteRetentionMs
        self.maxRecordBytes = maxRecordBytes
    }

    /// The largest segment: batch positions in the `.index` files are 4-byte signed integers, and
    /// a segment may run one batch past its limit before it rolls.
    public static let maxSegmentBytes = 1 << 30
    /// The largest record, and the largest batch one append may write.
    public static let maxBatchBytes = 1 << 30

    /// Checks the settings make sense and fit the file formats.
    /// - Throws: ``RunnelError`` with code `.invalidArgument` naming the setting.
    public func validate() throws {
        guard (1...1024).contains(partitions) else {
            throw RunnelError(.invalidArgument, "a topic needs 1 to 1024 partitions, not \(partitions)")
        }
        guard segmentBytes >= 1024 else { throw RunnelError(.invalidArgument, "segment size \(segmentBytes) is below 1024 bytes") }
        guard segmentBytes <= Self.maxSegmentBytes else {
            throw RunnelError(.invalidArgument, "segment size \(segmentBytes) is over the limit of \(Self.maxSegmentBytes) bytes (1 GiB)",
                              hint: "Segment files address batches with 4-byte positions, as Kafka's do; choose 1 GiB or less")
        }
        guard maxRecordBytes >= 64 else { throw RunnelError(.invalidArgument, "maximum record size \(maxRecordBytes) is below 64 bytes") }
        guard maxRecordBytes <= Self.maxBatchBytes else {
            throw RunnelError(.invalidArgument, "maximum record size \(maxRecordBytes) is over the limit of \(Self.maxBatchBytes) bytes (1 GiB)",
                              hint: "Batch lengths are 4-byte fields; choose 1 GiB or less")
        }
        guard segmentMs > 0 else { throw RunnelError(.invalidArgument, "segment age \(segmentMs) ms must be positive") }
        guard deleteRetentionMs >= 0 else { throw RunnelError(.invalidArgument, "tombstone retention \(deleteRetentionMs) ms must not be negative") }
        if let retentionMs, retentionMs <= 0 { throw RunnelError(.invalidArgument, "retention must be positive") }
        if let retentionBytes, retentionBytes <= 0 { throw RunnelError(.invalidArgument, "retention bytes must be positive") }
    }
}
