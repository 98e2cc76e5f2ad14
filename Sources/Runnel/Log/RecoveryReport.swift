/// What opening a partition after an unclean stop found at its tail.
public struct RecoveryReport: Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int
    /// Bytes checked past the last recovery checkpoint.
    public var scannedBytes: Int
    /// Bytes cut from the end (a torn tail), zero when the tail was whole.
    public var truncatedBytes: Int
    /// Records in the cut bytes, as far as their batch headers could be read.
    public var droppedRecords: Int
    /// Why bytes were cut.
    public var damage: SegmentDamage?

    public var description: String {
        guard truncatedBytes > 0 else { return "\(topic)/\(partition): checked \(scannedBytes) bytes after an unclean stop; tail intact" }
        return "\(topic)/\(partition): torn tail truncated: \(truncatedBytes) bytes (\(droppedRecords) records) dropped"
            + (damage.map { " at \($0.file.lastPathComponent) byte \($0.position) (\($0.problem))" } ?? "")
    }
}
