/// Kafka's murmur2 hash and default partitioner, so a key lands in the partition it would in
/// Kafka (`org.apache.kafka.common.utils.Utils.murmur2`, seed 0x9747b28c).
package enum Murmur2 {
    /// The 32-bit murmur2 hash of some bytes, as Kafka computes it (a signed Java int).
    package static func hash(_ bytes: some Collection<UInt8>) -> Int32 {
        let data = Array(bytes)
        let m: UInt32 = 0x5BD1_E995
        let length = data.count
        var h: UInt32 = 0x9747_B28C ^ UInt32(truncatingIfNeeded: length)
        let blocks = length / 4
        for block in 0..<blocks {
            let i = block * 4
            var k = UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
            k = k &* m
            k ^= k >> 24
            k = k &* m
            h = h &* m
            h ^= k
        }
        let tail = length & ~3
        switch length % 4 {
        case 3:
            h ^= UInt32(data[tail + 2]) << 16
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 2:
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 1:
            h ^= UInt32(data[tail])
            h = h &* m
        default:
            break
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// The partition Kafka's default partitioner picks for a key:
    /// `(murmur2(key) & 0x7fffffff) % partitions`.
    package static func partition(forKey key: some Collection<UInt8>, partitions: Int) -> Int {
        Int(hash(key) & 0x7FFF_FFFF) % partitions
    }
}
