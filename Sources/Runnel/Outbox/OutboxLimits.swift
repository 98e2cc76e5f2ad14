/// The limits the outbox enforces on each event, so that nothing enters it that the relay or a
/// pipeline could not carry later.
public struct OutboxLimits: Sendable, Hashable {
    /// The largest JSON payload, in bytes. Default 1 MiB, Kafka's default `max.message.bytes`.
    public var maximumPayloadBytes: Int
    /// The largest key, in UTF-8 bytes. Default 4 KiB.
    public var maximumKeyBytes: Int
    /// The largest event type name, in UTF-8 bytes. Default 200.
    public var maximumTypeBytes: Int
    /// The largest total of header names and values, in UTF-8 bytes. Default 64 KiB.
    public var maximumHeaderBytes: Int

    /// Creates limits; every argument has the default described on its property.
    public init(
        maximumPayloadBytes: Int = 1 << 20,
        maximumKeyBytes: Int = 4 << 10,
        maximumTypeBytes: Int = 200,
        maximumHeaderBytes: Int = 64 << 10
    ) {
        self.maximumPayloadBytes = maximumPayloadBytes
        self.maximumKeyBytes = maximumKeyBytes
        self.maximumTypeBytes = maximumTypeBytes
        self.maximumHeaderBytes = maximumHeaderBytes
    }
}
