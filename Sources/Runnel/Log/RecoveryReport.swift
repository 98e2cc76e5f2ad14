/// What opening a partition for writing found at its tail: after an unclean stop always, after a
/// clean one only when the tail was damaged.
public struct RecoveryReport: Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int
    /// Whether the log had closed cleanly before this open.
    public var cleanStop: Bool
    /// Bytes checked past the last recovery checkpoint.
    public var scannedBytes = 0
    /// Bytes cut from the end (a torn tail), zero when the tail was whole.
    public var truncatedBytes = 0
    /// Records in the cut bytes, as far as their batch headers could be read.
    public var droppedRecords = 0
    /// Why bytes were cut: the file and byte offset of the first bad batch.
    package var damage: SegmentDamage?
    /// A damaged batch the recovery checkpoint covers: nothing was cut, and the partition takes
    /// no appends until `runnel log repair` cuts it there.
    package var refusedDamage: SegmentDamage?

    package init(topic: String, partition: Int, cleanStop: Bool) {
        self.topic = topic
        self.partition = partition
        self.cleanStop = cleanStop
    }

    /// Whether the report says something an operator should hear: bytes cut or appends refused.
    public var needsAttention: Bool { truncatedBytes > 0 || refusedDamage != nil }

    public var description: String {
        let stop = cleanStop ? "a clean stop" : "an unclean stop"
        if let refusedDamage {
            return "\(topic)/\(partition): the last batch, flushed before \(stop), is damaged: \(refusedDamage); "
                + "nothing was cut, and the partition takes no appends until `runnel log repair --yes` cuts it there"
        }
        guard truncatedBytes > 0 else { return "\(topic)/\(partition): checked \(scannedBytes) bytes after \(stop); tail intact" }
        return "\(topic)/\(partition): torn tail truncated after \(stop): \(truncatedBytes) bytes (\(droppedRecords) records) dropped"
            + (damage.map { " from \($0.file.path) at byte \($0.position) (\($0.problem))" } ?? "")
    }
}
